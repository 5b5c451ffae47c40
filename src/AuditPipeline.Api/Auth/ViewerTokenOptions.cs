using AuditPipeline.Core.Configuration;

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

internal sealed class ViewerTokenOptionsValidator : ConfigurationValidator<ViewerTokenOptions>
{
    public override IEnumerable<string> Problems(ViewerTokenOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.ViewerTokenMinutes is < 1 or > ViewerTokenOptions.MaxMinutes
            ? [$"{ApiOptions.SectionName}:ViewerTokenMinutes must be between 1 and {ViewerTokenOptions.MaxMinutes} (was {options.ViewerTokenMinutes})."]
            : [];
    }
}
