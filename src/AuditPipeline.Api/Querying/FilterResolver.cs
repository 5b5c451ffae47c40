using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;

namespace AuditPipeline.Api.Querying;

/// <summary>Validated filters: the store query (without a position), and the fingerprint a cursor is bound to.</summary>
internal sealed record ResolvedFilters(AuditQuery Query, byte[] Fingerprint, FilterInput Given);

/// <summary>
/// Turns the filters as given into an <see cref="AuditQuery"/>: closed filters (category, source,
/// outcome, ai, range) must hold known values, times must be ISO-8601 instants with an offset, and
/// <c>range</c> is resolved against the injected clock. Every problem is reported under the parameter's name.
/// </summary>
internal static partial class FilterResolver
{
    private static readonly Dictionary<string, int> Ranges = new(StringComparer.OrdinalIgnoreCase) { ["7d"] = 7, ["30d"] = 30, ["90d"] = 90 };

    public static ResolvedFilters? Resolve(string orgId, FilterInput input, DateTimeOffset now, Dictionary<string, string[]> errors)
    {
        var categories = Closed(input, FilterInput.Category, v => Categories.All.FirstOrDefault(c => string.Equals(c, v, StringComparison.OrdinalIgnoreCase)), Categories.All, errors);
        var sources = Closed(input, FilterInput.Source, Sources.Canonical, Sources.All, errors);
        var outcomes = Closed(input, FilterInput.Outcome, v => Outcomes.All.FirstOrDefault(c => string.Equals(c, v, StringComparison.OrdinalIgnoreCase)), Outcomes.All, errors);
        var ai = Closed(input, FilterInput.Ai, v => v.Equals("true", StringComparison.OrdinalIgnoreCase) ? "true" : v.Equals("false", StringComparison.OrdinalIgnoreCase) ? "false" : null, ["true", "false"], errors);

        var rangeToken = input.Single(FilterInput.Range);
        var fromText = input.Single(FilterInput.From);
        var toText = input.Single(FilterInput.To);
        DateTimeOffset? from = null, to = null;
        string? range = null;
        if (rangeToken is not null)
        {
            if (fromText is not null || toText is not null)
            {
                errors[FilterInput.Range] = ["range cannot be combined with from or to; give either range or from/to."];
            }
            else if (Ranges.TryGetValue(rangeToken, out var days))
            {
                range = days.ToString(CultureInfo.InvariantCulture) + "d";
                from = now.ToUniversalTime().AddDays(-days);
            }
            else
            {
                errors[FilterInput.Range] = [$"range must be one of 7d, 30d, 90d (was '{Shorten(rangeToken)}')."];
            }
        }
        else
        {
            from = Instant(FilterInput.From, fromText, errors);
            to = Instant(FilterInput.To, toText, errors);
            if (from is { } f && to is { } t && f > t)
            {
                errors[FilterInput.From] = [$"from ({fromText}) must not be after to ({toText})."];
            }
        }

        var terms = TextMatch.Terms(input.Single(FilterInput.Q));
        if (!errors.ContainsKey(FilterInput.Q) && TextLimits.Check(terms) is { } tooMuch)
        {
            errors[FilterInput.Q] = [tooMuch];
        }

        if (errors.Count > 0)
        {
            return null;
        }

        var query = new AuditQuery
        {
            OrgId = orgId,
            Actions = Distinct(input.Get(FilterInput.Action)),
            Users = Distinct(input.Get(FilterInput.User)),
            EntityTypes = Distinct(input.Get(FilterInput.EntityType)),
            EntityIds = Distinct(input.Get(FilterInput.EntityId)),
            Categories = categories,
            Sources = sources,
            Outcomes = outcomes,
            Ai = [.. ai.Select(v => v == "true")],
            From = from,
            To = to,
            Terms = terms,
        };

        return new ResolvedFilters(query, Fingerprint(query, range), input);
    }

    /// <summary>
    /// A hash of the normalized filters including the organisation. A range is fingerprinted by its
    /// token, not its resolved times, so a cursor stays valid while "now" moves on.
    /// </summary>
    private static byte[] Fingerprint(AuditQuery q, string? range)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Part(string name, IEnumerable<string> values)
        {
            var sorted = values.Order(StringComparer.Ordinal).ToList();
            var text = new StringBuilder().Append(name).Append(':').Append(sorted.Count);
            foreach (var v in sorted)
            {
                text.Append('|').Append(v.Length).Append(':').Append(v);
            }

            hash.AppendData(Encoding.UTF8.GetBytes(text.Append('\n').ToString()));
        }

        Part("org", [q.OrgId]);
        Part("action", q.Actions);
        Part("user", q.Users);
        Part("entityType", q.EntityTypes);
        Part("entityId", q.EntityIds);
        Part("category", q.Categories);
        Part("source", q.Sources);
        Part("outcome", q.Outcomes);
        Part("ai", q.Ai.Distinct().Select(b => b ? "true" : "false"));
        Part("range", range is null ? [] : [range]);
        Part("from", range is null && q.From is { } f ? [f.UtcTicks.ToString(CultureInfo.InvariantCulture)] : []);
        Part("to", q.To is { } t ? [t.UtcTicks.ToString(CultureInfo.InvariantCulture)] : []);
        Part("q", q.Terms.Select(t => t.ToUpperInvariant()).Distinct());
        return hash.GetHashAndReset();
    }

    private static List<string> Closed(
        FilterInput input, string name, Func<string, string?> canonical, IReadOnlyList<string> allowed, Dictionary<string, string[]> errors)
    {
        var result = new List<string>();
        foreach (var v in input.Get(name))
        {
            if (canonical(v) is { } c)
            {
                if (!result.Contains(c))
                {
                    result.Add(c);
                }
            }
            else
            {
                errors[name] = [$"{name} must be one of {string.Join(", ", allowed)} (was '{Shorten(v)}')."];
                return [];
            }
        }

        return result;
    }

    private static List<string> Distinct(IReadOnlyList<string> values) => [.. values.Distinct(StringComparer.Ordinal)];

    private static DateTimeOffset? Instant(string name, string? text, Dictionary<string, string[]> errors)
    {
        if (text is null)
        {
            return null;
        }

        // A '+' left unencoded in a query string arrives as a space: read "10:00:00 01:00" as "+01:00".
        var candidate = SpacedOffset().Replace(text.Trim(), "+${offset}");
        if (IsoInstant().IsMatch(candidate) &&
            DateTimeOffset.TryParse(candidate, CultureInfo.InvariantCulture, DateTimeStyles.None, out var value))
        {
            return value.ToUniversalTime();
        }

        errors[name] = [$"{name} must be an ISO-8601 time with a UTC offset, e.g. 2026-11-29T10:32:00Z or 2026-11-29T11:32:00+01:00 (was '{Shorten(text)}')."];
        return null;
    }

    private static string Shorten(string s) => s.Length <= 64 ? s : s[..64] + "…";

    [GeneratedRegex(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,7})?)?([Zz]|[+-][0-9]{2}:?[0-9]{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoInstant();

    [GeneratedRegex(@"(?<=[Tt][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,7})?)?) (?<offset>[0-9]{2}:?[0-9]{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex SpacedOffset();
}
