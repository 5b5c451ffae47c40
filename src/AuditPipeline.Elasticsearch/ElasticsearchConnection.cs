using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Elastic.Clients.Elasticsearch;
using Elastic.Transport;
using EsMethod = Elastic.Transport.HttpMethod;

namespace AuditPipeline.Elasticsearch;

/// <summary>One answer from the cluster: the HTTP status (null when none came back) and the body.</summary>
internal readonly record struct EsResponse(int? Status, byte[] Body, Exception? Error)
{
    public bool Success => Status is >= 200 and < 300;

    /// <summary>No answer at all, or one that says "try again later".</summary>
    public bool Retryable => Status is null or 429 or >= 500;

    public bool Unauthorized => Status is 401 or 403;

    /// <summary>The error type of an Elasticsearch error body (<c>{"error":{"type":...}}</c>), if any.</summary>
    public string? ErrorType
    {
        get
        {
            if (Body.Length == 0 || Body[0] != (byte)'{')
            {
                return null;
            }

            try
            {
                using var doc = JsonDocument.Parse(Body);
                return doc.RootElement.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object &&
                    e.TryGetProperty("type", out var t) ? t.GetString() : null;
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }

    public string Describe()
    {
        if (Status is null)
        {
            return $"no response ({Error?.GetType().Name}: {Error?.Message})";
        }

        var text = Body.Length == 0 ? "" : Encoding.UTF8.GetString(Body, 0, Math.Min(Body.Length, 600));
        return $"HTTP {Status}: {text}";
    }
}

/// <summary>The request and response media types the cluster is spoken to in.</summary>
internal sealed record EsMediaTypes(string Json, string Ndjson, string? Version)
{
    /// <summary>Plain types: every supported version accepts them and answers in its own version's format.</summary>
    public static EsMediaTypes Plain { get; } = new("application/json", "application/x-ndjson", null);

    /// <summary>
    /// The media types for a cluster version: <c>compatible-with</c> its major for 8 and 9, and 9
    /// for anything newer (a 10.x cluster answers a 9.x client in 9.x format). Null below 8.
    /// </summary>
    public static EsMediaTypes? For(string version)
    {
        var dot = version.IndexOf('.', StringComparison.Ordinal);
        if (!int.TryParse(dot < 0 ? version : version[..dot], System.Globalization.CultureInfo.InvariantCulture, out var major) || major < 8)
        {
            return null;
        }

        var compatible = Math.Min(major, 9);
        return new(
            $"application/vnd.elasticsearch+json;compatible-with={compatible}",
            $"application/vnd.elasticsearch+x-ndjson;compatible-with={compatible}",
            version);
    }
}

/// <summary>
/// Every request of the store and the setup goes through the official client's transport, so the
/// client's authentication, TLS, product check and request invoker (and tests' in-memory invokers)
/// see all of them. Bodies are built by us as UTF-8 JSON (source-generated or hand-written), which
/// keeps bulk NDJSON exact and cheap.
/// <para>
/// The 9.x client would send <c>compatible-with=9</c>, which an 8.x cluster refuses with 400
/// <c>media_type_header_exception</c>. So before the first request the cluster's version is read from
/// <c>GET /</c> (sent with plain <c>application/json</c>, which every version takes) and every request
/// then carries the media types of <see cref="EsMediaTypes.For"/>. A user without the <c>monitor</c>
/// privilege gets 403 there (least privilege: the writer and reader roles have no cluster
/// privileges); then the plain types are used, which 8.x and 9.x answer alike for our requests.
/// </para>
/// </summary>
internal sealed class ElasticsearchConnection(ElasticsearchClient client)
{
    private readonly SemaphoreSlim _probe = new(1, 1);
    private EsMediaTypes? _media;

    public ElasticsearchClient Client { get; } = client;

    /// <summary>The media types in use, once known (null before the first request).</summary>
    public EsMediaTypes? MediaTypes => Volatile.Read(ref _media);

    public async Task<EsResponse> SendAsync(EsMethod method, string path, ReadOnlyMemory<byte>? body, CancellationToken cancellationToken, bool ndjson = false)
    {
        var media = MediaTypes;
        if (media is null)
        {
            var (detected, failure) = await DetectAsync(cancellationToken);
            if (detected is null)
            {
                return failure;
            }

            media = detected;
        }

        var configuration = new RequestConfiguration { Accept = media.Json, ContentType = ndjson ? media.Ndjson : media.Json };
        return await RawAsync(method, path, body, configuration, cancellationToken);
    }

    /// <summary>
    /// Reads the version from <c>GET /</c> once. No answer (or 401, 5xx) is returned as the failure so
    /// the caller treats it as it would its own request; the probe runs again on the next request.
    /// </summary>
    private async Task<(EsMediaTypes? Media, EsResponse Failure)> DetectAsync(CancellationToken cancellationToken)
    {
        await _probe.WaitAsync(cancellationToken);
        try
        {
            if (MediaTypes is { } known)
            {
                return (known, default);
            }

            var plain = new RequestConfiguration { Accept = EsMediaTypes.Plain.Json, ContentType = EsMediaTypes.Plain.Json };
            var response = await RawAsync(EsMethod.GET, "/", null, plain, cancellationToken);
            EsMediaTypes? media;
            if (response.Status == 403)
            {
                media = EsMediaTypes.Plain;
            }
            else if (!response.Success)
            {
                return (null, response);
            }
            else
            {
                var version = ReadVersion(response.Body);
                media = version is null ? EsMediaTypes.Plain : EsMediaTypes.For(version);
                if (media is null)
                {
                    return (null, new EsResponse(null, [], new NotSupportedException(
                        $"Elasticsearch {version} at Elasticsearch:Url is not supported; AuditPipeline needs 8.x or 9.x.")));
                }
            }

            Volatile.Write(ref _media, media);
            return (media, default);
        }
        finally
        {
            _probe.Release();
        }
    }

    internal static string? ReadVersion(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.TryGetProperty("version", out var v) && v.TryGetProperty("number", out var n) ? n.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private async Task<EsResponse> RawAsync(EsMethod method, string path, ReadOnlyMemory<byte>? body, RequestConfiguration configuration, CancellationToken cancellationToken)
    {
        BytesResponse response;
        try
        {
            response = body is not { } b
                ? await Client.Transport.RequestAsync<BytesResponse>(method, path, null, configuration, cancellationToken)
                : await Client.Transport.RequestAsync<BytesResponse>(method, path, PostData.ReadOnlyMemory(b), configuration, cancellationToken);
        }
        catch (Exception ex)
        {
            // The transport wraps cancellation and some connection failures in its own exceptions.
            cancellationToken.ThrowIfCancellationRequested();
            return new EsResponse(null, [], ex);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var details = response.ApiCallDetails;
        var status = details.HttpStatusCode is > 0 ? details.HttpStatusCode : null;
        return new EsResponse(status, response.Body ?? [], details.OriginalException);
    }

    public static ElasticsearchClient CreateClient(ElasticsearchOptions options, IRequestInvoker? invoker = null)
    {
        var pool = new SingleNodePool(new Uri(options.Url!));
        var settings = invoker is null ? new ElasticsearchClientSettings(pool) : new ElasticsearchClientSettings(pool, invoker);
        settings.RequestTimeout(options.RequestTimeout);
        if (!string.IsNullOrWhiteSpace(options.ApiKey))
        {
            settings.Authentication(new ApiKey(options.ApiKey));
        }
        else if (!string.IsNullOrWhiteSpace(options.Username))
        {
            settings.Authentication(new BasicAuthentication(options.Username, options.Password ?? ""));
        }

        if (!string.IsNullOrWhiteSpace(options.CertificateFingerprint))
        {
            settings.CertificateFingerprint(options.CertificateFingerprint);
        }
        else if (!string.IsNullOrWhiteSpace(options.CaCertificatePath))
        {
            var ca = X509CertificateLoader.LoadCertificateFromFile(options.CaCertificatePath);
            settings.ServerCertificateValidationCallback(CertificateValidations.AuthorityIsRoot(ca));
        }

        return new ElasticsearchClient(settings);
    }
}
