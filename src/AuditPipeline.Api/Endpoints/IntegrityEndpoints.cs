using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using AuditPipeline.Api.Auth;
using AuditPipeline.Core.Integrity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace AuditPipeline.Api.Endpoints;

/// <summary>
/// CONTRACT section 9 over HTTP: the verify verb's check for one organisation, its digests (the store's
/// copy, for offline checks of an export) and the public key, which needs no API key.
/// </summary>
internal static class IntegrityEndpoints
{
    /// <summary>Problems listed in one answer; all are counted in the verification, the first ones are shown.</summary>
    public const int MaxProblems = 10_000;

    public static void Map(RouteGroupBuilder org, IEndpointRouteBuilder root)
    {
        org.MapGet("/integrity", Check)
            .WithName("CheckIntegrity")
            .WithSummary("Verifies the organisation's events against its signed digest chain, as the verify verb does.")
            .Produces<IntegrityAnswer>()
            .WithMetadata(new RequiredScope(ApiScopes.Read));

        org.MapGet("/digests", Digests)
            .WithName("ListDigests")
            .WithSummary("The organisation's signed digests (a JSON array, seq ascending) whose events meet [from, to).")
            .Produces<JsonElement[]>()
            .WithMetadata(new RequiredScope(ApiScopes.Read));

        root.MapGet("/v1/integrity/public-key", PublicKey)
            .WithName("GetDigestPublicKey")
            .WithTags("Integrity")
            .WithSummary("The PEM public key (EC P-256) the digests are signed with; needs no API key.")
            .Produces<string>(StatusCodes.Status200OK, "application/x-pem-file");
    }

    public static async Task<Results<JsonHttpResult<IntegrityAnswer>, ValidationProblem, ProblemHttpResult>> Check(
        string orgId, HttpContext http, CancellationToken cancellationToken)
    {
        if (!TryRange(http.Request.Query, out var from, out var to, out var invalid))
        {
            return invalid;
        }

        if (http.RequestServices.GetService<IIntegrityCheck>() is not { } check)
        {
            return ApiProblems.NotFound();
        }

        var report = await check.CheckAsync(orgId, from, to, MaxProblems, cancellationToken);
        var problems = report.Problems.Select(p => new IntegrityAnswerProblem(p.Kind, p.EventId, p.Seq, p.Detail)).ToList();
        return TypedResults.Json(new IntegrityAnswer(report.Events, report.Digests, problems), IntegrityJsonContext.Default.IntegrityAnswer);
    }

    public static Results<DigestArrayResult, ValidationProblem, ProblemHttpResult> Digests(string orgId, HttpContext http)
    {
        if (!TryRange(http.Request.Query, out var from, out var to, out var invalid))
        {
            return invalid;
        }

        return http.RequestServices.GetService<IIntegrityCheck>() is { } check
            ? new DigestArrayResult(check.DigestsAsync(orgId, from, to, http.RequestAborted))
            : ApiProblems.NotFound();
    }

    public static Results<ContentHttpResult, ProblemHttpResult> PublicKey(HttpContext http)
    {
        try
        {
            return http.RequestServices.GetService<IIntegrityCheck>() is { } check
                ? TypedResults.Text(check.PublicKeyPem, "application/x-pem-file")
                : ApiProblems.NotFound();
        }
        catch (IOException)
        {
            return ApiProblems.NotFound();
        }
    }

    private static bool TryRange(IQueryCollection query, out DateTimeOffset? from, out DateTimeOffset? to, out ValidationProblem invalid)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        from = Instant(query, "from", errors);
        to = Instant(query, "to", errors);
        if (errors.Count == 0 && from is { } f && to is { } t && f > t)
        {
            errors["from"] = ["from must not be after to."];
        }

        invalid = errors.Count > 0 ? ApiProblems.Invalid(errors) : null!;
        return errors.Count == 0;
    }

    private static DateTimeOffset? Instant(IQueryCollection query, string name, Dictionary<string, string[]> errors)
    {
        if (!query.TryGetValue(name, out var values) || values.Count == 0 || string.IsNullOrEmpty(values[0]))
        {
            return null;
        }

        if (values.Count > 1)
        {
            errors[name] = [$"{name} may be given only once (was given {values.Count} times)."];
            return null;
        }

        var text = values[0]!;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t))
        {
            return t;
        }

        var shown = text.Length <= 40 ? text : text[..40] + "…";
        errors[name] = [$"{name} must be an ISO-8601 date or instant, e.g. 2026-11-01T00:00:00Z (was {shown})."];
        return null;
    }
}

/// <summary><c>{"events","digests","problems":[{"kind","eventId"|"seq","detail"}]}</c>.</summary>
public sealed record IntegrityAnswer(long Events, long Digests, IReadOnlyList<IntegrityAnswerProblem> Problems);

public sealed record IntegrityAnswerProblem(string Kind, string? EventId, long? Seq, string Detail);

/// <summary>Streams the digests' canonical documents as one JSON array, in constant memory.</summary>
internal sealed class DigestArrayResult(IAsyncEnumerable<Digest> digests) : IResult, IStatusCodeHttpResult, IContentTypeHttpResult
{
    public int? StatusCode => StatusCodes.Status200OK;

    public string ContentType => "application/json; charset=utf-8";

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ContentType;
        var body = response.Body;
        await body.WriteAsync("["u8.ToArray(), httpContext.RequestAborted);
        var first = true;
        await foreach (var d in digests)
        {
            if (!first)
            {
                await body.WriteAsync(","u8.ToArray(), httpContext.RequestAborted);
            }

            first = false;
            await body.WriteAsync(DigestCodec.Encode(d), httpContext.RequestAborted);
        }

        await body.WriteAsync("]"u8.ToArray(), httpContext.RequestAborted);
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(IntegrityAnswer))]
internal sealed partial class IntegrityJsonContext : JsonSerializerContext;
