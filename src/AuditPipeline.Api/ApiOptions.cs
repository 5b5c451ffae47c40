using System.Text.RegularExpressions;
using AuditPipeline.Core.Configuration;

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

/// <summary>One API key, stored only as the SHA-256 of the raw key.</summary>
public sealed class ApiKeyOptions
{
    public string Name { get; set; } = "";

    /// <summary>Lower-case hex SHA-256 of the raw key's UTF-8 bytes.</summary>
    public string Sha256 { get; set; } = "";

    /// <summary>An organisation id, or <c>*</c> for every organisation (the Outsprint app's service key).</summary>
    public string Org { get; set; } = "";

    /// <summary><c>audit:read</c> and/or <c>audit:export</c>.</summary>
    public List<string> Scopes { get; set; } = [];
}

public sealed class ApiRateLimitOptions
{
    /// <summary>Requests per key per minute (fixed window); past it the key gets 429 with Retry-After.</summary>
    public int PermitsPerMinute { get; set; } = 1000;
}

/// <summary>The scopes a key can carry.</summary>
public static class ApiScopes
{
    public const string Read = "audit:read";
    public const string Export = "audit:export";

    public static IReadOnlyList<string> All { get; } = [Read, Export];
}

internal sealed partial class ApiOptionsValidator : ConfigurationValidator<ApiOptions>
{
    public override IEnumerable<string> Problems(ApiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Keys.Count; i++)
        {
            var key = options.Keys[i];
            var prefix = $"{ApiOptions.SectionName}:Keys:{i}:";
            if (string.IsNullOrWhiteSpace(key.Name))
            {
                errors.Add($"{prefix}Name must not be empty.");
            }
            else if (!names.Add(key.Name))
            {
                errors.Add($"{prefix}Name '{key.Name}' is used by another key; names must be unique.");
            }

            if (!Sha256Hex().IsMatch(key.Sha256 ?? ""))
            {
                errors.Add($"{prefix}Sha256 must be 64 lower-case hex characters (the SHA-256 of the raw key's UTF-8 bytes).");
            }

            if (string.IsNullOrWhiteSpace(key.Org))
            {
                errors.Add($"{prefix}Org must be an organisation id or '*'.");
            }

            if (key.Scopes is null || key.Scopes.Count == 0)
            {
                errors.Add($"{prefix}Scopes must list at least one of {string.Join(", ", ApiScopes.All)}.");
            }
            else
            {
                for (var j = 0; j < key.Scopes.Count; j++)
                {
                    if (!ApiScopes.All.Contains(key.Scopes[j]))
                    {
                        errors.Add($"{prefix}Scopes:{j} must be one of {string.Join(", ", ApiScopes.All)} (was '{key.Scopes[j]}').");
                    }
                }
            }
        }

        if (!string.IsNullOrEmpty(options.CursorKey))
        {
            var bytes = new byte[options.CursorKey.Length];
            if (!Convert.TryFromBase64String(options.CursorKey, bytes, out var n) || n < 32)
            {
                errors.Add($"{ApiOptions.SectionName}:CursorKey must be base64 of at least 32 bytes.");
            }
        }

        if (options.RateLimit.PermitsPerMinute < 1)
        {
            errors.Add($"{ApiOptions.SectionName}:RateLimit:PermitsPerMinute must be at least 1 (was {options.RateLimit.PermitsPerMinute}).");
        }

        if (options.QueryTimeout <= TimeSpan.Zero || options.QueryTimeout > TimeSpan.FromMinutes(10))
        {
            errors.Add($"{ApiOptions.SectionName}:QueryTimeout must be more than 0 and at most 00:10:00 (was {options.QueryTimeout}).");
        }

        if (options.CsvTimeout <= TimeSpan.Zero || options.CsvTimeout > TimeSpan.FromDays(1))
        {
            errors.Add($"{ApiOptions.SectionName}:CsvTimeout must be more than 0 and at most 1.00:00:00 (was {options.CsvTimeout}).");
        }

        return errors;
    }

    [GeneratedRegex("^[0-9a-f]{64}$", RegexOptions.CultureInvariant)]
    private static partial Regex Sha256Hex();
}
