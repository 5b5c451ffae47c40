using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using AuditPipeline.EndToEnd.Tests.Support;

namespace AuditPipeline.EndToEnd.Tests;

/// <summary><c>demo</c> ends with a link a person opens: the page's address with a working viewer token.</summary>
public sealed partial class DemoViewerLinkTests : IDisposable
{
    private readonly WorkerSandbox _sandbox = new("demo-link");

    [Fact]
    public async Task Demo_prints_the_page_address_with_a_fresh_viewer_token_for_org_acme()
    {
        await using var worker = WorkerProcess.Start(
            ["demo", $"--Inbox:Path={_sandbox.Inbox}", $"--Store:Embedded:Path={_sandbox.Data}", $"--Api:Urls=http://127.0.0.1:{_sandbox.Port}", "--Demo:EventsPerOrg=50"],
            _sandbox.Root);
        await worker.WaitForLogAsync("/ui/?org=org_acme#token=", TimeSpan.FromSeconds(90));

        var link = Link().Match(worker.Stdout);
        Assert.True(link.Success, worker.Log);
        Assert.Equal($"http://127.0.0.1:{_sandbox.Port}/", link.Groups["base"].Value);
        using var http = new HttpClient { BaseAddress = new Uri(link.Groups["base"].Value) };
        using var page = await http.GetAsync(new Uri("/ui/?org=org_acme", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);

        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", link.Groups["token"].Value);
        using var events = await http.GetAsync(new Uri("/v1/orgs/org_acme/events?limit=1", UriKind.Relative), TestContext.Current.CancellationToken);
        using var foreign = await http.GetAsync(new Uri("/v1/orgs/org_globex/events?limit=1", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, events.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
    }

    public void Dispose() => _sandbox.Dispose();

    [GeneratedRegex(@"(?<base>http://[^\s]+/)ui/\?org=org_acme#token=(?<token>avt_[A-Za-z0-9_-]+)")]
    private static partial Regex Link();
}
