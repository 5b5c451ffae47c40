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
