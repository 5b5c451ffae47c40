using System.Globalization;
using AuditPipeline.Api.Auth;
using AuditPipeline.Api.Csv;
using AuditPipeline.Api.Exports;
using AuditPipeline.Api.Querying;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Logging;

namespace AuditPipeline.Api.Endpoints;

/// <summary>List, view and stream an organisation's events.</summary>
internal static partial class EventEndpoints
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    public static async Task<Results<JsonHttpResult<EventPage>, ValidationProblem, ProblemHttpResult>> ListEvents(
        string orgId, HttpContext http, IAuditStore store, CursorProtector cursors, QueryBudget budget, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var input = FilterInput.FromQuery(http.Request.Query, errors);
        var limit = ParseLimit(http.Request.Query, errors);
        var resolved = FilterResolver.Resolve(orgId, input, time.GetUtcNow(), errors);
        var cursorText = SingleValue(http.Request.Query, FilterInput.Cursor, errors);
        if (resolved is null || errors.Count > 0)
        {
            return ApiProblems.Invalid(errors);
        }

        var query = resolved.Query;
        if (cursorText is not null)
        {
            switch (cursors.Unprotect(cursorText, resolved.Fingerprint, out var position))
            {
                case CursorCheck.Valid:
                    query = query with { After = position };
                    break;
                case CursorCheck.OtherFilters:
                    return ApiProblems.Invalid(FilterInput.Cursor, "cursor belongs to other filters; pass the same filters as the request that returned it, or start again without a cursor.");
                default:
                    return ApiProblems.Invalid(FilterInput.Cursor, "cursor was not issued by this server; use the nextCursor of a previous page unchanged.");
            }
        }

        var (finished, page) = await budget.RunAsync(QueryBudget.List, orgId, ct => store.QueryAsync(query, limit, ct), cancellationToken);
        if (!finished || page is null)
        {
            return TimedOut(http);
        }

        // A store that spent its work budget ends the page early, possibly with no items, and still
        // says where to go on: the client keeps paging with nextCursor and loses nothing.
        var next = page.Next is { } p ? cursors.Protect(p, resolved.Fingerprint) : null;
        return TypedResults.Json(new EventPage(page.Items, next), ApiJsonContext.Default.EventPage);
    }

    public static async Task<Results<JsonHttpResult<AuditEvent>, ProblemHttpResult>> GetEvent(
        string orgId, string eventId, HttpContext http, IAuditStore store, QueryBudget budget, CancellationToken cancellationToken)
    {
        var (finished, e) = await budget.RunAsync(QueryBudget.Detail, orgId, ct => store.GetAsync(orgId, eventId, ct), cancellationToken);
        if (!finished)
        {
            return TimedOut(http);
        }

        return e is null ? ApiProblems.NotFound() : TypedResults.Json(e, ApiJsonContext.Default.AuditEvent);
    }

    public static Results<CsvStreamResult, ValidationProblem> ExportCsv(
        string orgId, HttpContext http, IAuditStore store, ExportAuditor auditor, QueryBudget budget, TimeProvider time, ILogger<CsvStreamResult> logger)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var input = FilterInput.FromQuery(http.Request.Query, errors);
        var resolved = FilterResolver.Resolve(orgId, input, time.GetUtcNow(), errors);
        if (resolved is null || errors.Count > 0)
        {
            return ApiProblems.Invalid(errors);
        }

        return new CsvStreamResult(orgId, resolved, store, auditor, budget, logger);
    }

    internal static ProblemHttpResult TimedOut(HttpContext http)
    {
        http.Response.Headers.RetryAfter = QueryBudget.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return ApiProblems.TimedOut(QueryBudget.RetryAfterSeconds);
    }

    public static ProblemHttpResult MethodNotAllowed(HttpContext http)
    {
        http.Response.Headers.Allow = "GET";
        return ApiProblems.MethodNotAllowed(http.Request.Method);
    }

    private static int ParseLimit(IQueryCollection query, Dictionary<string, string[]> errors)
    {
        var text = SingleValue(query, FilterInput.Limit, errors);
        if (text is null)
        {
            return DefaultLimit;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) || limit is < 1 or > MaxLimit)
        {
            var shown = text.Length <= 20 ? text : text[..20] + "…";
            errors[FilterInput.Limit] = [$"limit must be between 1 and {MaxLimit} (was {shown})."];
            return DefaultLimit;
        }

        return limit;
    }

    private static string? SingleValue(IQueryCollection query, string name, Dictionary<string, string[]> errors)
    {
        if (!query.TryGetValue(name, out var values))
        {
            return null;
        }

        var given = values.Where(v => !string.IsNullOrEmpty(v)).ToList();
        if (given.Count > 1)
        {
            errors[name] = [$"{name} may be given only once (was given {given.Count} times)."];
            return null;
        }

        return given.Count == 1 ? given[0] : null;
    }
}

/// <summary>
/// Streams the matches as CSV straight from the store to the response (constant memory), then appends
/// the audit record of the export with the number of rows sent.
/// </summary>
internal sealed partial class CsvStreamResult(
    string orgId, ResolvedFilters filters, IAuditStore store, ExportAuditor auditor, QueryBudget budget, ILogger<CsvStreamResult> logger)
    : IResult, IStatusCodeHttpResult, IContentTypeHttpResult
{
    public int? StatusCode => StatusCodes.Status200OK;

    public string ContentType => EventCsvFormat.ContentType;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = EventCsvFormat.ContentType;
        response.Headers.ContentDisposition = "attachment; filename=\"audit-events.csv\"";
        response.Headers.CacheControl = "no-store";
        httpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        long rows = 0;
        var completed = false;
        var aborted = httpContext.RequestAborted;

        // A client that leaves cancels the scan; one that stays gets Api:CsvTimeout, generous, but an end.
        using var scope = budget.Start(QueryBudget.Csv, aborted);
        var ct = scope.Token;
        try
        {
            // The first row (or the end) is fetched before any byte is sent, so a search that finds
            // nothing in time, or a store that is down, can still get a clean 503 instead of a cut stream.
            await using var matches = store.StreamAsync(filters.Query, ct).GetAsyncEnumerator(ct);
            var any = await matches.MoveNextAsync();
            rows = await EventCsvFormat.WriteAsync(response.Body, Remaining(matches, any), n => rows = n, ct);
            completed = true;
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away; what it received is still audited below.
        }
        catch (Exception) when (scope.Expired)
        {
            // Out of time. A CSV cannot say "incomplete" in a row and stay a valid CSV: before the first
            // byte the client gets a 503, after it a broken connection, never a short file that looks whole.
            budget.CutOff(QueryBudget.Csv, orgId);
            if (response.HasStarted)
            {
                httpContext.Abort();
            }
            else
            {
                response.Clear();
                await EventEndpoints.TimedOut(httpContext).ExecuteAsync(httpContext);
            }
        }
        catch (StoreUnavailableException ex) when (!response.HasStarted)
        {
            LogStreamFailed(ex, orgId);
            response.Clear();
            response.Headers.RetryAfter = "5";
            await ApiProblems.Unavailable().ExecuteAsync(httpContext);
        }
        catch (Exception ex)
        {
            // Headers are gone (or the failure is not one a client can wait out): cut the connection so
            // the client sees a broken download, not a short file.
            LogStreamFailed(ex, orgId);
            httpContext.Abort();
        }
        finally
        {
            var caller = httpContext.Caller();
            var details = filters.Given.ToJson();
            await auditor.RecordAsync(orgId, caller.Name, details, rows, httpContext.Connection.RemoteIpAddress?.ToString(), UserAgent(httpContext));
        }

        if (!completed)
        {
            LogStreamIncomplete(orgId, rows);
        }
    }

    private static async IAsyncEnumerable<AuditEvent> Remaining(IAsyncEnumerator<AuditEvent> matches, bool any)
    {
        if (!any)
        {
            yield break;
        }

        yield return matches.Current;
        while (await matches.MoveNextAsync())
        {
            yield return matches.Current;
        }
    }

    internal static string? UserAgent(HttpContext http) =>
        http.Request.Headers.UserAgent is { Count: > 0 } ua && !string.IsNullOrEmpty(ua[0]) ? ua[0] : null;

    [LoggerMessage(Level = LogLevel.Error, Message = "Streaming the CSV of {OrgId} failed")]
    private partial void LogStreamFailed(Exception ex, string orgId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The CSV of {OrgId} ended early after {RowCount} rows")]
    private partial void LogStreamIncomplete(string orgId, long rowCount);
}
