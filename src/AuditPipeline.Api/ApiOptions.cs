namespace AuditPipeline.Api;

/// <summary>
/// The query facade's keys, cursor key and rate limit:
/// <code>
/// "Api": {
///   "Keys": [ { "Name": "app", "Sha256": "&lt;64 lower-case hex&gt;", "Org": "*", "Scopes": [ "audit:read", "audit:export" ] } ],
///   "CursorKey": "&lt;base64, at least 32 bytes; generated and kept under Exports:Path when absent&gt;",
///   "RateLimit": { "PermitsPerMinute": 1000 },
///   "QueryTimeout": "00:00:10", "CsvTimeout": "01:00:00"
/// }
/// </code>
/// </summary>
public sealed class ApiOptions
{
    public const string SectionName = "Api";

    public List<ApiKeyOptions> Keys { get; set; } = [];

    /// <summary>Base64 HMAC key for page cursors; when empty one is generated once and persisted.</summary>
    public string? CursorKey { get; set; }

    public ApiRateLimitOptions RateLimit { get; set; } = new();

    /// <summary>
    /// The longest a list or detail request may take; past it the client gets 503 with Retry-After (the
    /// stores also cap their own work and end a page early with a cursor, so this is the backstop).
    /// </summary>
    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The longest a CSV stream may run. Before the first byte a cut-off is a 503; after it the connection
    /// is aborted, so the client sees a broken download rather than a short file that looks complete.
    /// </summary>
    public TimeSpan CsvTimeout { get; set; } = TimeSpan.FromHours(1);
}
