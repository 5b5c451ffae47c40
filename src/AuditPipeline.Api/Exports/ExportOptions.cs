using AuditPipeline.Core.Configuration;

namespace AuditPipeline.Api.Exports;

/// <summary>
/// Background CSV exports and their notification:
/// <code>
/// "Exports": {
///   "Path": "./data/exports", "MaxConcurrent": 2, "RetentionDays": 7, "MaxAttempts": 3,
///   "CleanupInterval": "01:00:00", "MaxRequestBodyBytes": 65536,
///   "NotificationRetries": 6, "NotificationRetryDelay": "00:00:02",
///   "MaxActivePerKey": 3, "MaxActive": 20, "MinFreeBytes": 1073741824,
///   "WebhookUrl": "https://app.example/hooks/audit", "WebhookSecret": "&lt;shared secret&gt;"
/// }
/// </code>
/// </summary>
public sealed class ExportOptions
{
    public const string SectionName = "Exports";

    /// <summary>Where CSV files and job records live (also the generated cursor key).</summary>
    public string Path { get; set; } = "./data/exports";

    /// <summary>Export jobs running at once.</summary>
    public int MaxConcurrent { get; set; } = 2;

    /// <summary>Files and job records older than this are deleted.</summary>
    public int RetentionDays { get; set; } = 7;

    /// <summary>How often a job interrupted by a restart is re-run before it is marked failed.</summary>
    public int MaxAttempts { get; set; } = 3;

    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Largest accepted body of <c>POST .../exports</c>.</summary>
    public int MaxRequestBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Retries of a failed notification delivery per channel (exponential backoff with jitter).</summary>
    public int NotificationRetries { get; set; } = 6;

    /// <summary>The first retry's delay; each next one doubles.</summary>
    public TimeSpan NotificationRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Exports one API key may have queued or running at once; past it, 429 with Retry-After.</summary>
    public int MaxActivePerKey { get; set; } = 3;

    /// <summary>Exports queued or running in this worker at once, all keys together; past it, 429 with Retry-After.</summary>
    public int MaxActive { get; set; } = 20;

    /// <summary>Free bytes an export must leave on its disk; checked before it starts and while it writes.</summary>
    public long MinFreeBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>When set, completed exports are POSTed here, signed with <see cref="WebhookSecret"/>.</summary>
    public string? WebhookUrl { get; set; }

    public string? WebhookSecret { get; set; }
}

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
