using System.Text.RegularExpressions;
using AuditPipeline.Core.Configuration;

namespace AuditPipeline.Api;

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
