using System.Globalization;
using System.Text.Json.Nodes;
using AuditPipeline.Core.Retention;

namespace AuditPipeline.Elasticsearch;

/// <summary>
/// Index names and the one mapping. Indices are per retention class and event month, named by the
/// month's first day (<c>audit-events-p2y-2026.11.01</c>) so ILM can parse the origination date from
/// the name; events that arrive after their month became read-only go to the class's late-arrivals
/// index of the current month (<c>audit-events-p2y-late-2026.12.01</c>).
/// </summary>
internal static class AuditIndices
{
    public const string Prefix = "audit-events-";

    /// <summary>Every audit index of every class: what searches cover.</summary>
    public const string AllPattern = "audit-events-*";

    public static string Month(RetentionClass retentionClass, DateTimeOffset eventTime) =>
        Prefix + retentionClass.Name + "-" + MonthSuffix(eventTime);

    public static string Late(RetentionClass retentionClass, DateTimeOffset now) =>
        Prefix + retentionClass.Name + "-late-" + MonthSuffix(now);

    /// <summary>Every index of one class (its months and its late-arrival indices).</summary>
    public static string ClassPattern(RetentionClass retentionClass) => Prefix + retentionClass.Name + "-*";

    public static bool IsLate(string index) => index.Contains("-late-", StringComparison.Ordinal);

    public static string PolicyName(RetentionClass retentionClass) => Prefix + retentionClass.Name;

    private static string MonthSuffix(DateTimeOffset t)
    {
        var utc = t.UtcDateTime;
        return new DateTime(utc.Year, utc.Month, 1, 0, 0, 0, DateTimeKind.Utc).ToString("yyyy.MM.dd", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The mapping of <see cref="AuditDocument"/>, strict: a field we did not declare is an error,
    /// never a new mapping. Payloads are stored whole but not indexed.
    /// </summary>
    public static JsonObject Mapping() => new()
    {
        ["dynamic"] = "strict",
        ["properties"] = new JsonObject
        {
            ["@timestamp"] = Type("date"),
            ["event"] = Object(
                ("id", Keyword()),
                ("kind", Keyword()),
                ("action", Keyword()),
                ("category", Keyword()),
                ("type", Keyword()),
                ("outcome", Keyword()),
                ("ingested", Type("date"))),
            ["organization"] = Object(("id", Keyword())),
            ["user"] = Object(
                ("id", Keyword()),
                ("name", Keyword(1024)),
                ("email", Keyword(1024))),
            ["source"] = Object(("ip", new JsonObject { ["type"] = "ip", ["ignore_malformed"] = true })),
            ["user_agent"] = Object(("original", Keyword(1024))),
            ["audit"] = Object(
                ("category", Keyword()),
                ("event_type", Keyword()),
                ("actor", Object(("type", Keyword()))),
                ("entity", Object(
                    ("type", Keyword()),
                    ("id", Keyword()),
                    ("name", Keyword(1024)))),
                ("source", Keyword()),
                ("changes", Disabled()),
                ("changed_fields", Keyword(256)),
                ("ai", Object(
                    ("initiated", Type("boolean")),
                    ("conversation_id", Keyword()),
                    ("message_id", Keyword()),
                    ("tool", Keyword()))),
                ("before", Disabled()),
                ("after", Disabled()),
                ("details", Disabled()),
                ("search", SearchText())),
        },
    };

    private static JsonObject Type(string type) => new() { ["type"] = type };

    /// <summary>
    /// The free-text suffixes: one token each (the <c>keyword</c> analyzer; they are lower-cased when
    /// written) with <c>index_prefixes</c>, so prefix queries are term lookups. A <c>keyword</c> field
    /// would need real prefix queries, which <c>search.allow_expensive_queries: false</c> refuses.
    /// </summary>
    private static JsonObject SearchText() => new()
    {
        ["type"] = "text",
        ["analyzer"] = "keyword",
        ["index_options"] = "docs",
        ["norms"] = false,
        ["index_prefixes"] = new JsonObject { ["min_chars"] = 1, ["max_chars"] = SearchTexts.MaxIndexedPrefix },
    };

    private static JsonObject Keyword(int? ignoreAbove = null)
    {
        var o = new JsonObject { ["type"] = "keyword" };
        if (ignoreAbove is { } n)
        {
            o["ignore_above"] = n;
        }

        return o;
    }

    private static JsonObject Disabled() => new() { ["type"] = "object", ["enabled"] = false };

    private static JsonObject Object(params (string Name, JsonObject Field)[] fields)
    {
        var properties = new JsonObject();
        foreach (var (name, field) in fields)
        {
            properties[name] = field;
        }

        return new JsonObject { ["properties"] = properties };
    }
}
