using System.Text.Json.Serialization;
using AuditPipeline.Core.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace AuditPipeline.Api.Auth;

/// <summary>
/// <c>POST /v1/orgs/{orgId}/viewer-tokens</c>: any configured key allowed on the organisation mints a
/// short-lived token for that organisation alone, with the key's scopes, for the audit log page. A
/// viewer token cannot mint another (it would outlive its own expiry). The token is only ever in this
/// response body: it is not logged here, and the page sends it only as an Authorization header.
/// </summary>
internal static class ViewerTokenEndpoints
{
    public static RouteGroupBuilder MapViewerTokens(this RouteGroupBuilder api)
    {
        api.MapPost("/viewer-tokens", Mint)
            .WithName("MintViewerToken")
            .WithSummary("Mints a short-lived viewer token for this organisation with the calling key's scopes (for /ui/).")
            .Produces<ViewerTokenIssued>();
        return api;
    }

    public static Results<JsonHttpResult<ViewerTokenIssued>, ProblemHttpResult> Mint(string orgId, HttpContext http, ApiKeyRegistry keys)
    {
        var caller = http.Caller();
        if (orgId == ApiCaller.AnyOrg)
        {
            // A token is for one organisation; '*' names none (the same 404 as any unknown organisation).
            return ApiProblems.NotFound();
        }

        if (caller.IsViewerToken)
        {
            return TypedResults.Problem(
                title: "Forbidden",
                detail: "A viewer token cannot mint viewer tokens; ask the application for a new one with its API key.",
                statusCode: StatusCodes.Status403Forbidden);
        }

        var (token, expiresAt) = keys.MintViewerToken(caller, orgId);
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Json(new ViewerTokenIssued(token, expiresAt), ViewerTokenJsonContext.Default.ViewerTokenIssued);
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, Converters = [typeof(UtcMillisecondsConverter)])]
[JsonSerializable(typeof(ViewerTokenIssued))]
internal sealed partial class ViewerTokenJsonContext : JsonSerializerContext;
