using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace AuditPipeline.Api.Viewer;

/// <summary>
/// The audit log page's built files (<c>Viewer/dist</c>), embedded in this assembly so the worker serves
/// them with no file on disk and no external network. Read once; each with its ETag.
/// </summary>
internal sealed class ViewerAssets
{
    public const string ResourcePrefix = "viewer/";

    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".png"] = "image/png",
        [".ico"] = "image/x-icon",
        [".json"] = "application/json",
        [".txt"] = "text/plain; charset=utf-8",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private readonly FrozenDictionary<string, Asset> _assets;

    private ViewerAssets(FrozenDictionary<string, Asset> assets) => _assets = assets;

    public static ViewerAssets Instance { get; } = Load(typeof(ViewerAssets).Assembly);

    public IEnumerable<string> Paths => _assets.Keys;

    public Asset? Find(string path) => _assets.TryGetValue(path, out var a) ? a : null;

    private static ViewerAssets Load(Assembly assembly)
    {
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            {
                continue;
            }

            var path = name[ResourcePrefix.Length..].Replace('\\', '/');
            if (!ContentTypes.TryGetValue(Path.GetExtension(path), out var type))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes).AsSpan(0, 12)) + "\"";
            assets[path] = new Asset(bytes, type, etag);
        }

        return new ViewerAssets(assets.ToFrozenDictionary(StringComparer.Ordinal));
    }

    internal sealed record Asset(byte[] Bytes, string ContentType, string ETag);
}

/// <summary>
/// <c>GET /ui/</c>: the Settings &gt; Audit Log page. Needs no key (it holds no data); the page reads its
/// viewer token from the URL fragment, which browsers never send, and calls the API with it as a
/// Bearer header. Strict CSP (same-origin scripts, styles and requests only); no frame-ancestors
/// limit, because the Outsprint app embeds the page.
/// </summary>
internal static class ViewerEndpoints
{
    private const string Csp =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
        "font-src 'self'; base-uri 'none'; form-action 'none'";

    public static IEndpointRouteBuilder MapAuditViewer(this IEndpointRouteBuilder endpoints)
    {
        // One route for the page and its files (routing does not tell "/ui" from "/ui/"; the handler does).
        endpoints.MapGet("/ui/{**path}", (HttpContext http, string? path) => Serve(http, path))
            .WithName("AuditViewer")
            .ExcludeFromDescription();
        return endpoints;
    }

    private static IResult Serve(HttpContext http, string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            // "/ui" → "/ui/" so the page's relative asset and API addresses resolve under it.
            if (!http.Request.Path.Value!.EndsWith('/'))
            {
                return TypedResults.Redirect(http.Request.PathBase + http.Request.Path + "/" + http.Request.QueryString, permanent: false);
            }

            path = "index.html";
        }

        var asset = ViewerAssets.Instance.Find(path);
        if (asset is null)
        {
            return ApiProblems.NotFound();
        }

        var headers = http.Response.Headers;
        headers.ContentSecurityPolicy = Csp;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.ETag = asset.ETag;

        // Built file names carry a content hash: cache them for good; the page itself is always revalidated.
        headers.CacheControl = path.StartsWith("assets/", StringComparison.Ordinal) ? "public, max-age=31536000, immutable" : "no-cache";
        if (http.Request.Headers.IfNoneMatch.Contains(asset.ETag))
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        return TypedResults.Bytes(asset.Bytes, asset.ContentType);
    }
}
