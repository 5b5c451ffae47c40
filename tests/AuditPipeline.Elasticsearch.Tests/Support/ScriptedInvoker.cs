using System.Collections.Concurrent;
using System.Text;
using Elastic.Transport;

namespace AuditPipeline.Elasticsearch.Tests.Support;

/// <summary>A request the client sent: method, path with query, and the body as text.</summary>
public sealed record SentRequest(string Method, string Path, string Body, string? ContentType = null, string? Accept = null)
{
    public string[] Lines => Body.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public override string ToString() => $"{Method} {Path}";
}

/// <summary>A canned answer; <see cref="Error"/> simulates a request that got no HTTP response.</summary>
public sealed record Canned(int Status, string Body, Exception? Error = null)
{
    public static Canned Ok(string body) => new(200, body);
}

/// <summary>
/// An <see cref="IRequestInvoker"/> that answers each request from a script, built on the client's
/// own <see cref="InMemoryRequestInvoker"/> so responses go through the real response pipeline (and
/// its product check: every answer carries <c>x-elastic-product: Elasticsearch</c>).
/// </summary>
public sealed class ScriptedInvoker : IRequestInvoker
{
    private static readonly Dictionary<string, IEnumerable<string>> ProductHeader = new() { ["x-elastic-product"] = ["Elasticsearch"] };
    private readonly InMemoryRequestInvoker _builder = new([], 200, null, "application/json", ProductHeader);
    private readonly Func<SentRequest, Canned> _answer;
    private readonly ConcurrentQueue<SentRequest> _sent = new();
    private readonly ConcurrentQueue<SentRequest> _all = new();

    public ScriptedInvoker(Func<SentRequest, Canned> answer) => _answer = answer;

    /// <summary>
    /// What <c>GET /</c> answers: by default a 9.x cluster. The version probe and the batch's search
    /// for stored copies are answered here unless a test scripts them, and kept out of
    /// <see cref="Sent"/> so tests of one mechanism see its requests alone; <see cref="All"/> has every request.
    /// </summary>
    public Canned Root { get; set; } = Answers.Root("9.2.1");

    /// <summary>The batch's search for stored copies: by default none found.</summary>
    public Func<SentRequest, Canned> StoredCopies { get; set; } = _ => Answers.Copies();

    /// <summary>Requests other than the version probe and the search for stored copies.</summary>
    public IReadOnlyList<SentRequest> Sent => [.. _sent];

    /// <summary>Every request in the order sent.</summary>
    public IReadOnlyList<SentRequest> All => [.. _all];

    public IEnumerable<SentRequest> CopySearches => All.Where(r => r.Path == AuditBulkWriter.CopiesPath);

    public ResponseFactory ResponseFactory => _builder.ResponseFactory;

    public IEnumerable<SentRequest> To(string pathStart) => Sent.Where(r => r.Path.StartsWith(pathStart, StringComparison.Ordinal));

    public void Dispose()
    {
    }

    public async Task<TResponse> RequestAsync<TResponse>(Endpoint endpoint, BoundConfiguration boundConfiguration, PostData? postData, CancellationToken cancellationToken)
        where TResponse : TransportResponse, new()
    {
        var request = Record(endpoint, boundConfiguration, postData);
        var canned = request is { Method: "GET", Path: "/" } ? Root
            : request.Path == AuditBulkWriter.CopiesPath ? StoredCopies(request)
            : _answer(request);
        if (canned.Error is not null)
        {
            var failing = new InMemoryRequestInvoker([], canned.Status, canned.Error, "application/json", ProductHeader);
            return await failing.BuildResponseAsync<TResponse>(endpoint, boundConfiguration, postData, cancellationToken, [], canned.Status, "application/json");
        }

        return await _builder.BuildResponseAsync<TResponse>(endpoint, boundConfiguration, postData, cancellationToken, Encoding.UTF8.GetBytes(canned.Body), canned.Status, "application/json");
    }

    public TResponse Request<TResponse>(Endpoint endpoint, BoundConfiguration boundConfiguration, PostData? postData)
        where TResponse : TransportResponse, new() =>
        RequestAsync<TResponse>(endpoint, boundConfiguration, postData, CancellationToken.None).GetAwaiter().GetResult();

    private SentRequest Record(Endpoint endpoint, BoundConfiguration configuration, PostData? postData)
    {
        var body = "";
        if (postData is not null)
        {
            using var stream = new MemoryStream();
            postData.Write(stream, configuration.ConnectionSettings, disableDirectStreaming: false);
            body = Encoding.UTF8.GetString(stream.ToArray());
        }

        var request = new SentRequest(endpoint.Method.ToString(), endpoint.PathAndQuery, body, configuration.ContentType, configuration.Accept);
        _all.Enqueue(request);
        if (!(request is { Method: "GET", Path: "/" } || request.Path == AuditBulkWriter.CopiesPath))
        {
            _sent.Enqueue(request);
        }

        return request;
    }
}
