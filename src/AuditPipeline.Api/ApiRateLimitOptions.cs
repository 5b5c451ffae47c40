namespace AuditPipeline.Api;

public sealed class ApiRateLimitOptions
{
    /// <summary>Requests per key per minute (fixed window); past it the key gets 429 with Retry-After.</summary>
    public int PermitsPerMinute { get; set; } = 1000;
}
