using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using AuditPipeline.Api.Tests.Support;
using AuditPipeline.Api.Viewer;

namespace AuditPipeline.Api.Tests;

/// <summary>
/// <c>GET /ui/</c> serves the page and its files from the assembly, and the committed build
/// (<c>src/AuditPipeline.Api/Viewer/dist</c>) matches its sources, so nobody needs Node to build or run.
/// </summary>
public sealed partial class ViewerPageTests : IAsyncLifetime
{
    private ApiHost _host = null!;

    public async ValueTask InitializeAsync() => _host = await ApiHost.StartAsync();

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task The_page_needs_no_key_and_every_file_it_names_is_served_from_the_worker()
    {
        var client = _host.Client(key: null);

        using var page = await client.GetAsync("/ui/?org=org_42");
        var html = await page.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var csp = Assert.Single(page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self'", csp, StringComparison.Ordinal);
        Assert.Equal("no-referrer", Assert.Single(page.Headers.GetValues("Referrer-Policy")));

        var assets = AssetReference().Matches(html).Select(m => m.Groups["path"].Value).ToList();
        Assert.Contains(assets, a => a.EndsWith(".js", StringComparison.Ordinal));
        Assert.Contains(assets, a => a.EndsWith(".css", StringComparison.Ordinal));
        Assert.DoesNotContain("http", string.Concat(assets), StringComparison.OrdinalIgnoreCase);
        foreach (var asset in assets)
        {
            using var response = await client.GetAsync("/ui/" + asset);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(asset.EndsWith(".js", StringComparison.Ordinal) ? "text/javascript" : "text/css", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("immutable", response.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain("//cdn", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task Without_the_trailing_slash_the_page_redirects_keeping_its_query()
    {
        using var response = await _host.Client(key: null).GetAsync("/ui?org=org_42&source=API");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/ui/?org=org_42&source=API", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task An_unknown_file_is_404_and_an_unchanged_one_is_304()
    {
        var client = _host.Client(key: null);
        using var missing = await client.GetAsync("/ui/assets/nothing.js");
        using var traversal = await client.GetAsync("/ui/..%2F..%2Fappsettings.json");
        using var first = await client.GetAsync("/ui/");
        using var again = new HttpRequestMessage(HttpMethod.Get, "/ui/");
        again.Headers.TryAddWithoutValidation("If-None-Match", first.Headers.ETag!.Tag);
        using var cached = await client.SendAsync(again);

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, traversal.StatusCode);
        Assert.Equal(HttpStatusCode.NotModified, cached.StatusCode);
    }

    [Fact]
    public void The_committed_build_is_up_to_date_with_its_sources_and_embedded_whole()
    {
        var viewer = Path.Combine(RepositoryRoot(), "src", "AuditPipeline.Api", "Viewer");
        var recorded = File.ReadAllText(Path.Combine(viewer, "dist", "source.sha256")).Trim();

        Assert.True(
            recorded == SourceHash(viewer),
            "src/AuditPipeline.Api/Viewer/dist is older than its sources: run `npm ci && npm run build` in src/AuditPipeline.Api/Viewer and commit dist/ (docs/VIEWER.md).");

        var built = Directory.EnumerateFiles(Path.Combine(viewer, "dist"), "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Path.Combine(viewer, "dist"), f).Replace('\\', '/'))
            .Where(f => f != "source.sha256")
            .Order(StringComparer.Ordinal);
        Assert.Equal(built, ViewerAssets.Instance.Paths.Order(StringComparer.Ordinal));
    }

    /// <summary>The same hash as Viewer/write-source-hash.mjs: sorted paths, each "path\n" + text (LF) + "\n".</summary>
    private static string SourceHash(string viewer)
    {
        string[] sources = ["index.html", "package.json", "package-lock.json", "tsconfig.json", "vite.config.ts", "src"];
        var files = sources.SelectMany(s =>
        {
            var full = Path.Combine(viewer, s);
            return Directory.Exists(full)
                ? Directory.EnumerateFiles(full, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(viewer, f).Replace('\\', '/'))
                : [s];
        }).Order(StringComparer.Ordinal);

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in files)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(file + "\n"));
            hash.AppendData(Encoding.UTF8.GetBytes(File.ReadAllText(Path.Combine(viewer, file)).Replace("\r\n", "\n", StringComparison.Ordinal)));
            hash.AppendData("\n"u8);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AuditPipeline.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (AuditPipeline.sln) is not above the test's directory.");
    }

    [GeneratedRegex("""(?:src|href)="\./(?<path>assets/[^"]+)""")]
    private static partial Regex AssetReference();
}
