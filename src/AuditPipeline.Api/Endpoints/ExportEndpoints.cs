using System.IO.Compression;
using AuditPipeline.Api.Auth;
using AuditPipeline.Api.Csv;
using AuditPipeline.Api.Exports;
using AuditPipeline.Api.Querying;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace AuditPipeline.Api.Endpoints;

/// <summary>Background export jobs: request, poll, download.</summary>
internal static class ExportEndpoints
{
    public static async Task<IResult> CreateExport(
        string orgId, HttpContext http, ExportJobRunner runner, TimeProvider time, IOptions<ExportOptions> options, CancellationToken cancellationToken)
    {
        var (filters, problem) = await JsonBody.ReadAsync(http.Request, options.Value.MaxRequestBodyBytes, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var input = FilterInput.FromJson(filters!.Value, errors);
        if (errors.Count == 0)
        {
            FilterResolver.Resolve(orgId, input, time.GetUtcNow(), errors);
        }

        if (errors.Count > 0)
        {
            return ApiProblems.Invalid(errors);
        }

        var caller = http.Caller();
        var (job, refusal) = await runner.EnqueueAsync(
            orgId, caller.Name, filters.Value, http.Connection.RemoteIpAddress?.ToString(), CsvStreamResult.UserAgent(http), cancellationToken);
        if (job is null)
        {
            http.Response.Headers.RetryAfter = ExportAdmission.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return ApiProblems.ExportsBusy(refusal == ExportRefusals.PerKey
                ? $"This API key already has {options.Value.MaxActivePerKey} exports queued or running (the most one key may have); retry after {ExportAdmission.RetryAfterSeconds} seconds or once one has completed."
                : $"The server already runs {options.Value.MaxActive} exports (the most it takes at once); retry after {ExportAdmission.RetryAfterSeconds} seconds.");
        }

        http.Response.Headers.Location = $"/v1/orgs/{Uri.EscapeDataString(orgId)}/exports/{job.Id}";
        return TypedResults.Json(new ExportAccepted(job.Id, job.Status), ApiJsonContext.Default.ExportAccepted, statusCode: StatusCodes.Status202Accepted);
    }

    public static async Task<Results<JsonHttpResult<ExportStatus>, ProblemHttpResult>> GetExport(
        string orgId, string exportId, ExportJobStore jobs, CancellationToken cancellationToken)
    {
        var job = await jobs.GetAsync(exportId, cancellationToken);
        return job is null || !string.Equals(job.OrgId, orgId, StringComparison.Ordinal)
            ? ApiProblems.NotFound()
            : TypedResults.Json(job.ToStatus(), ApiJsonContext.Default.ExportStatus);
    }

    /// <summary>
    /// The CSV of a completed export; gzip-encoded when the client accepts gzip. 409 while the job is
    /// queued or running, or when it failed; 404 for another organisation or an expired export.
    /// </summary>
    public static async Task<Results<ExportFileResult, ProblemHttpResult>> Download(
        string orgId, string exportId, HttpContext http, ExportJobStore jobs, CancellationToken cancellationToken)
    {
        var job = await jobs.GetAsync(exportId, cancellationToken);
        if (job is null || !string.Equals(job.OrgId, orgId, StringComparison.Ordinal))
        {
            return ApiProblems.NotFound();
        }

        if (job.Status != ExportStatuses.Completed)
        {
            return ApiProblems.Conflict(job.Status == ExportStatuses.Failed
                ? "The export failed and has no file; request a new export."
                : $"The export is {job.Status}; poll its status and download once it is completed.");
        }

        var path = jobs.CsvPath(job.Id);
        if (!File.Exists(path))
        {
            return ApiProblems.NotFound();
        }

        return new ExportFileResult(path, job.Id, AcceptsGzip(http.Request));
    }

    internal static bool AcceptsGzip(HttpRequest request)
    {
        if (!StringWithQualityHeaderValue.TryParseList(request.Headers.AcceptEncoding, out var encodings))
        {
            return false;
        }

        return encodings.Any(e => string.Equals(e.Value.Value, "gzip", StringComparison.OrdinalIgnoreCase) && (e.Quality ?? 1) > 0);
    }
}

/// <summary>An export's CSV file, sent as is or gzip-compressed on the fly.</summary>
internal sealed class ExportFileResult(string path, string exportId, bool gzip) : IResult, IStatusCodeHttpResult, IContentTypeHttpResult
{
    public int? StatusCode => StatusCodes.Status200OK;

    public string ContentType => EventCsvFormat.ContentType;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        var ct = httpContext.RequestAborted;
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            // Expired between the status check and the open.
            await ApiProblems.NotFound().ExecuteAsync(httpContext);
            return;
        }

        await using (file)
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = EventCsvFormat.ContentType;
            response.Headers.ContentDisposition = $"attachment; filename=\"audit-export-{exportId}.csv\"";
            response.Headers.Vary = HeaderNames.AcceptEncoding;
            try
            {
                if (gzip)
                {
                    response.Headers.ContentEncoding = "gzip";
                    httpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
                    await using var compressed = new GZipStream(response.Body, CompressionLevel.Fastest, leaveOpen: true);
                    await file.CopyToAsync(compressed, 64 * 1024, ct);
                }
                else
                {
                    response.ContentLength = file.Length;
                    await file.CopyToAsync(response.Body, 64 * 1024, ct);
                }
            }
            catch (IOException)
            {
                // The headers are sent: a broken connection tells the client the file is incomplete.
                httpContext.Abort();
            }
        }
    }
}
