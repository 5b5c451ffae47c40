using System.Security.Cryptography.X509Certificates;
using System.Text;
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

/// <summary>
/// Every request of the store and the setup goes through the official client's transport, so the
/// client's authentication, TLS, product check and request invoker (and tests' in-memory invokers)
/// see all of them. Bodies are built by us as UTF-8 JSON (source-generated or hand-written), which
/// keeps bulk NDJSON exact and cheap.
/// </summary>
internal sealed class ElasticsearchConnection(ElasticsearchClient client)
{
    public ElasticsearchClient Client { get; } = client;

    /// <summary>
    /// Bulk bodies are NDJSON. The client asks for <c>application/vnd.elasticsearch+json;compatible-with=9</c>
    /// responses, and Elasticsearch wants the request's type at the same compatible version.
    /// </summary>
    internal const string NdjsonContentType = "application/vnd.elasticsearch+x-ndjson;compatible-with=9";

    private static readonly RequestConfiguration Ndjson = new() { ContentType = NdjsonContentType };

    public async Task<EsResponse> SendAsync(EsMethod method, string path, ReadOnlyMemory<byte>? body, CancellationToken cancellationToken, bool ndjson = false)
    {
        BytesResponse response;
        try
        {
            response = body is not { } b
                ? await Client.Transport.RequestAsync<BytesResponse>(method, path, cancellationToken)
                : ndjson
                    ? await Client.Transport.RequestAsync<BytesResponse>(method, path, PostData.ReadOnlyMemory(b), Ndjson, cancellationToken)
                    : await Client.Transport.RequestAsync<BytesResponse>(method, path, PostData.ReadOnlyMemory(b), cancellationToken);
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
