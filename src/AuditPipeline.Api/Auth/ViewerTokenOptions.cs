namespace AuditPipeline.Api.Auth;

/// <summary>
/// The viewer tokens' lifetime, read from the <c>Api</c> section next to the keys:
/// <code>
/// "Api": { "ViewerTokenMinutes": 15 }
/// </code>
/// </summary>
public sealed class ViewerTokenOptions
{
    public const int MaxMinutes = 24 * 60;

    /// <summary>How long a token minted by <c>POST /v1/orgs/{orgId}/viewer-tokens</c> is accepted.</summary>
    public int ViewerTokenMinutes { get; set; } = 15;
}
