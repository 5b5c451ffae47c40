using AuditPipeline.Core.Configuration;

namespace AuditPipeline.Api.Exports;

internal sealed class ExportOptionsValidator : ConfigurationValidator<ExportOptions>
{
    public override IEnumerable<string> Problems(ExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        var s = ExportOptions.SectionName;
        if (string.IsNullOrWhiteSpace(options.Path))
        {
            errors.Add($"{s}:Path must not be empty.");
        }

        if (options.MaxConcurrent is < 1 or > 64)
        {
            errors.Add($"{s}:MaxConcurrent must be 1 to 64 (was {options.MaxConcurrent}).");
        }

        if (options.RetentionDays < 1)
        {
            errors.Add($"{s}:RetentionDays must be at least 1 (was {options.RetentionDays}).");
        }

        if (options.MaxAttempts < 1)
        {
            errors.Add($"{s}:MaxAttempts must be at least 1 (was {options.MaxAttempts}).");
        }

        if (options.CleanupInterval <= TimeSpan.Zero)
        {
            errors.Add($"{s}:CleanupInterval must be positive (was {options.CleanupInterval}).");
        }

        if (options.NotificationRetries is < 0 or > 100)
        {
            errors.Add($"{s}:NotificationRetries must be 0 to 100 (was {options.NotificationRetries}).");
        }

        if (options.NotificationRetryDelay <= TimeSpan.Zero)
        {
            errors.Add($"{s}:NotificationRetryDelay must be positive (was {options.NotificationRetryDelay}).");
        }

        if (options.MaxRequestBodyBytes < 1024)
        {
            errors.Add($"{s}:MaxRequestBodyBytes must be at least 1024 (was {options.MaxRequestBodyBytes}).");
        }

        if (options.MaxActivePerKey is < 1 or > 1000)
        {
            errors.Add($"{s}:MaxActivePerKey must be 1 to 1000 (was {options.MaxActivePerKey}).");
        }

        if (options.MaxActive is < 1 or > 10_000)
        {
            errors.Add($"{s}:MaxActive must be 1 to 10000 (was {options.MaxActive}).");
        }
        else if (options.MaxActivePerKey > options.MaxActive)
        {
            errors.Add($"{s}:MaxActivePerKey ({options.MaxActivePerKey}) must not exceed {s}:MaxActive ({options.MaxActive}).");
        }

        if (options.MinFreeBytes < 0)
        {
            errors.Add($"{s}:MinFreeBytes must be 0 or more (was {options.MinFreeBytes}).");
        }

        if (!string.IsNullOrEmpty(options.WebhookUrl))
        {
            if (!Uri.TryCreate(options.WebhookUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || string.IsNullOrEmpty(uri.Host))
            {
                errors.Add($"{s}:WebhookUrl must be an absolute http or https URL (was '{options.WebhookUrl}').");
            }
            else if (!string.IsNullOrEmpty(uri.UserInfo))
            {
                // The URL is logged and shown in errors; a password in it would leak. The secret signs instead.
                errors.Add($"{s}:WebhookUrl must not carry a user name or password; the receiver verifies X-Audit-Signature instead.");
            }

            if (string.IsNullOrEmpty(options.WebhookSecret))
            {
                errors.Add($"{s}:WebhookSecret must be set when {s}:WebhookUrl is set (it signs X-Audit-Signature).");
            }
        }

        return errors;
    }
}
