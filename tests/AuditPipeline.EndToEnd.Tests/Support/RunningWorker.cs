using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AuditPipeline.Testing;

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

    public Task WaitReadyAsync(WorkerProcess worker, TimeSpan timeout) => Eventually.TrueAsync(
        async () =>
        {
            if (worker.HasExited)
            {
                throw new InvalidOperationException($"The worker exited before it was ready.\n{worker.Log}");
            }

            try
            {
                using var r = await Http.GetAsync(new Uri("/readyz", UriKind.Relative));
                return r.StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        },
        timeout,
        () => $"The worker was not ready.\n{worker.Log}",
        poll: TimeSpan.FromMilliseconds(100));

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
        List<string> ids = [];
        await Eventually.TrueAsync(
            async () =>
            {
                ids = await AllIdsAsync(org, filter);
                return ids.Count >= expected || (worker.HasExited ? throw new InvalidOperationException($"The worker exited with {ids.Count} of {expected} events in {org}.\n{worker.Log}") : false);
            },
            timeout,
            () => $"Expected {expected} events in {org}, found {ids.Count}.\n{worker.Log}",
            poll: TimeSpan.FromMilliseconds(500));
        return ids;
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
