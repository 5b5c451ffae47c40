using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Api.Querying;

/// <summary>
/// The facade's backstop against a search without bound: a list or detail request gets
/// <c>Api:QueryTimeout</c>, a CSV stream <c>Api:CsvTimeout</c>. The stores cap their own work (a page
/// ends early with a cursor); this catches whatever still runs too long, whether or not the store
/// honours cancellation, and counts it in <c>audit_api_requests_cut_off_total</c>.
/// </summary>
internal sealed partial class QueryBudget(IOptions<ApiOptions> options, ApiMetrics metrics, TimeProvider time, ILogger<QueryBudget> logger)
{
    /// <summary>What a client cut off is told to wait before it tries again.</summary>
    public const int RetryAfterSeconds = 10;

    public const string List = "list";
    public const string Detail = "detail";
    public const string Csv = "csv";

    public TimeSpan QueryTimeout => options.Value.QueryTimeout;

    /// <summary>A scope whose token fires when the client leaves or the budget of the endpoint is spent.</summary>
    public Scope Start(string endpoint, CancellationToken requestAborted) =>
        new(endpoint == Csv ? options.Value.CsvTimeout : options.Value.QueryTimeout, time, requestAborted);

    /// <summary>
    /// Runs one store call within the budget. Returns false (and counts and logs the cut-off) when the
    /// budget ran out first; the store call may still be running, its result is dropped.
    /// </summary>
    public async Task<(bool Finished, T? Result)> RunAsync<T>(string endpoint, string orgId, Func<CancellationToken, Task<T>> work, CancellationToken requestAborted)
    {
        using var scope = Start(endpoint, requestAborted);
        try
        {
            // WaitAsync: a store that does not watch the token still cannot hold the request.
            return (true, await work(scope.Token).WaitAsync(scope.Token));
        }
        catch (Exception ex) when (scope.Expired && !requestAborted.IsCancellationRequested && ex is not OutOfMemoryException)
        {
            CutOff(endpoint, orgId);
            return (false, default);
        }
    }

    public void CutOff(string endpoint, string orgId)
    {
        metrics.CutOff(endpoint);
        LogCutOff(endpoint, orgId, endpoint == Csv ? options.Value.CsvTimeout : options.Value.QueryTimeout);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A request to {Endpoint} for {OrgId} ran past its budget of {Budget} and was cut off")]
    private partial void LogCutOff(string endpoint, string orgId, TimeSpan budget);

    /// <summary>The budget of one request: its own timer (on the injected clock) linked with the client's token.</summary>
    internal sealed class Scope : IDisposable
    {
        private readonly CancellationTokenSource _timeout;
        private readonly CancellationTokenSource _linked;

        public Scope(TimeSpan budget, TimeProvider time, CancellationToken requestAborted)
        {
            _timeout = new CancellationTokenSource(budget, time);
            _linked = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, _timeout.Token);
        }

        public CancellationToken Token => _linked.Token;

        /// <summary>True once the budget ran out (as opposed to the client leaving).</summary>
        public bool Expired => _timeout.IsCancellationRequested;

        public void Dispose()
        {
            _linked.Dispose();
            _timeout.Dispose();
        }
    }
}
