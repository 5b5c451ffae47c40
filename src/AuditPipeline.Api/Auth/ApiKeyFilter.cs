using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Api.Auth;

/// <summary>Endpoint metadata: the scope a route needs.</summary>
internal sealed record RequiredScope(string Scope);

/// <summary>
/// The gate in front of every <c>/v1/orgs/{orgId}</c> route, in this order (the order is the contract):
/// no or unknown key → 401 with <c>WWW-Authenticate: Bearer</c>; over the key's rate → 429 with
/// <c>Retry-After</c>; a key of another organisation → the same 404 as a nonexistent resource (it
/// learns nothing about the organisation); a missing scope → 403, only once the organisation check passed.
/// </summary>
internal sealed class ApiKeyFilter(ApiKeyRegistry keys, ApiRateLimiter limiter) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var authorization = http.Request.Headers.Authorization;
        var caller = authorization.Count == 1 ? keys.Authenticate(authorization[0]) : null;
        if (caller is null)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return ApiProblems.Unauthorized();
        }

        using var lease = limiter.Acquire(caller.RatePartition);
        if (!lease.IsAcquired)
        {
            var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
            var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
            http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return ApiProblems.TooManyRequests(seconds);
        }

        if (http.GetRouteValue("orgId") is not string orgId || !caller.MayAccess(orgId))
        {
            return ApiProblems.NotFound();
        }

        if (http.GetEndpoint()?.Metadata.GetMetadata<RequiredScope>() is { } required && !caller.Has(required.Scope))
        {
            return ApiProblems.Forbidden(required.Scope);
        }

        http.Items[typeof(ApiCaller)] = caller;
        return await next(context);
    }
}

internal static class ApiCallerHttpContextExtensions
{
    /// <summary>The caller the <see cref="ApiKeyFilter"/> let through.</summary>
    public static ApiCaller Caller(this HttpContext http) =>
        http.Items[typeof(ApiCaller)] as ApiCaller ?? throw new InvalidOperationException("The route is not behind the API key filter.");
}

/// <summary>Per-key fixed-window limits (System.Threading.RateLimiting, the limiter behind ASP.NET Core's middleware).</summary>
internal sealed class ApiRateLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter;

    public ApiRateLimiter(IOptions<ApiOptions> options)
    {
        var permits = options.Value.RateLimit.PermitsPerMinute;
        _limiter = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = permits,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    public RateLimitLease Acquire(string keyName) => _limiter.AttemptAcquire(keyName);

    public void Dispose() => _limiter.Dispose();
}
