using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace AuditPipeline.EndToEnd.Tests.Support;

/// <summary>A directory with an inbox and a store, and the switches to run the real worker on them with an API key.</summary>
public sealed class WorkerSandbox : IDisposable
{
    public const string Key = "e2e-key";

    public WorkerSandbox(string name)
    {
        Root = Directory.CreateTempSubdirectory($"ap-{name}-").FullName;
        Directory.CreateDirectory(Inbox);
        Port = FreePort();
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Port}"), Timeout = TimeSpan.FromSeconds(30) };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
    }

    public string Root { get; }

    public string Inbox => Path.Combine(Root, "inbox");

    public string Data => Path.Combine(Root, "data");

    public int Port { get; }

    public HttpClient Http { get; }

    public List<string> Args(params string[] extra) =>
    [
        "run",
        $"--Inbox:Path={Inbox}",
        $"--Store:Embedded:Path={Data}",
        $"--Api:Urls=http://127.0.0.1:{Port}",
        "--Api:Keys:0:Name=e2e",
        $"--Api:Keys:0:Sha256={Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Key)))}",
        "--Api:Keys:0:Org=*",
        "--Api:Keys:0:Scopes:0=audit:read",
        "--Api:Keys:0:Scopes:1=audit:export",
        "--Ingest:BatchSize=500",
        .. extra,
    ];

    public WorkerProcess Start(params string[] extra) => WorkerProcess.Start(Args(extra), Root);

    public async Task WaitReadyAsync(WorkerProcess worker, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (worker.HasExited)
            {
                throw new InvalidOperationException($"The worker exited before it was ready.\n{worker.Log}");
            }

            try
            {
                using var r = await Http.GetAsync(new Uri("/readyz", UriKind.Relative));
                if (r.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The worker was not ready within {timeout}.\n{worker.Log}");
    }

    /// <summary>Every event id of an organisation, by paging the API (newest first).</summary>
    public async Task<List<string>> AllIdsAsync(string org, string filter = "")
    {
        var ids = new List<string>();
        string? cursor = null;
        do
        {
            var url = $"/v1/orgs/{org}/events?limit=500{filter}" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}");
            // An event may hold raw JSON 64 levels deep, which a page nests deeper than the reader's default.
            var page = JsonNode.Parse(await Http.GetStringAsync(new Uri(url, UriKind.Relative)), documentOptions: new System.Text.Json.JsonDocumentOptions { MaxDepth = 256 })!;
            ids.AddRange(page["items"]!.AsArray().Select(i => i!["id"]!.GetValue<string>()));
            cursor = page["nextCursor"]?.GetValue<string>();
        }
        while (cursor is not null);
        return ids;
    }

    /// <summary>Waits until the organisation holds <paramref name="expected"/> events (or fails with what it has).</summary>
    public async Task<List<string>> WaitForCountAsync(WorkerProcess worker, string org, int expected, TimeSpan timeout, string filter = "")
    {
        var deadline = DateTime.UtcNow + timeout;
        List<string> ids = [];
        while (DateTime.UtcNow < deadline)
        {
            ids = await AllIdsAsync(org, filter);
            if (ids.Count >= expected)
            {
                return ids;
            }

            if (worker.HasExited)
            {
                break;
            }

            await Task.Delay(500);
        }

        throw new TimeoutException($"Expected {expected} events in {org}, found {ids.Count}.\n{worker.Log}");
    }

    public async Task<double> MetricAsync(string name)
    {
        var text = await Http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        return text.Split('\n')
            .Where(l => l.StartsWith(name, StringComparison.Ordinal) && (l.Length == name.Length || l[name.Length] is '{' or ' '))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    public void Dispose()
    {
        Http.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
