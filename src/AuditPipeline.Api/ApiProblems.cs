using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AuditPipeline.Api;

/// <summary>
/// Every error the facade answers, as <c>application/problem+json</c> with a sentence a person can act
/// on and never an internal detail.
/// </summary>
internal static class ApiProblems
{
    public const string InvalidTitle = "Invalid parameter";

    /// <summary>One 404 for a missing event, a missing export and another organisation alike.</summary>
    public static ProblemHttpResult NotFound() =>
        TypedResults.Problem(title: "Not Found", detail: "Nothing was found at this address.", statusCode: StatusCodes.Status404NotFound);

    public static ProblemHttpResult Unauthorized() =>
        TypedResults.Problem(title: "Unauthorized", detail: "Send a valid API key as 'Authorization: Bearer <key>'.", statusCode: StatusCodes.Status401Unauthorized);

    public static ProblemHttpResult Forbidden(string scope) =>
        TypedResults.Problem(title: "Forbidden", detail: $"This API key lacks the scope '{scope}' that this request needs.", statusCode: StatusCodes.Status403Forbidden);

    public static ProblemHttpResult TooManyRequests(int retryAfterSeconds) =>
        TypedResults.Problem(title: "Too Many Requests", detail: $"This API key made too many requests; retry after {retryAfterSeconds} seconds.", statusCode: StatusCodes.Status429TooManyRequests);

    public static ProblemHttpResult ExportsBusy(string detail) =>
        TypedResults.Problem(title: "Too Many Requests", detail: detail, statusCode: StatusCodes.Status429TooManyRequests);

    public static ProblemHttpResult MethodNotAllowed(string method) =>
        TypedResults.Problem(title: "Method Not Allowed", detail: $"Audit events are immutable: {method} is not allowed here.", statusCode: StatusCodes.Status405MethodNotAllowed);

    public static ProblemHttpResult PayloadTooLarge(int limit) =>
        TypedResults.Problem(title: "Payload Too Large", detail: $"The request body must be at most {limit} bytes.", statusCode: StatusCodes.Status413PayloadTooLarge);

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(title: "Conflict", detail: detail, statusCode: StatusCodes.Status409Conflict);

    public static ProblemHttpResult TimedOut(int retryAfterSeconds) =>
        TypedResults.Problem(
            title: "Service Unavailable",
            detail: $"The search took longer than this server allows and was stopped; retry after {retryAfterSeconds} seconds, or narrow the filters (a shorter time range, fewer or longer q terms).",
            statusCode: StatusCodes.Status503ServiceUnavailable);

    public static ProblemHttpResult Unavailable() =>
        TypedResults.Problem(title: "Service Unavailable", detail: "The audit store is not answering right now; retry in a few seconds.", statusCode: StatusCodes.Status503ServiceUnavailable);

    public static ProblemHttpResult ServerError() =>
        TypedResults.Problem(title: "Internal Server Error", detail: "The request failed unexpectedly; it was logged. Try again later.", statusCode: StatusCodes.Status500InternalServerError);

    public static ValidationProblem Invalid(IReadOnlyDictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(
            errors,
            detail: string.Join(" ", errors.Values.SelectMany(v => v)),
            title: InvalidTitle);

    public static ValidationProblem Invalid(string parameter, string detail) =>
        Invalid(new Dictionary<string, string[]>(StringComparer.Ordinal) { [parameter] = [detail] });
}
