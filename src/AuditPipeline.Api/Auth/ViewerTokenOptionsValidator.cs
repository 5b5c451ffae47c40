using AuditPipeline.Core.Configuration;

namespace AuditPipeline.Api.Auth;

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
