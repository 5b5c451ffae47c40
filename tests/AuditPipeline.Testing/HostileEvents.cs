using System.Globalization;
using System.Text;
using System.Text.Json;
using AuditPipeline.Core.Events;

namespace AuditPipeline.Testing;

/// <summary>
/// Seeded events whose every string a store keeps and a CSV shows is hostile: quotes, commas, CR/LF,
/// leading formula characters (= + - @ tab CR), NUL and other control characters, U+FFFF, astral
/// characters, right-to-left text, backslashes and JSON escapes, long runs; and whose JSON parts
/// (changes, before, after, details) mix nulls, nested values, escaped strings and raw numbers.
/// </summary>
public static class HostileEvents
{
    private static readonly string[] Pieces =
    [
        "\"", "\"\"", ",", "\r\n", "\n", "\r", "=", "+", "-", "@", "\t", "\0", "\u0001", "\u001f", "\u007f", "\uFFFF", "\uFFFE",
        "🚀", "𝄞", "Zoë", "מנהל", "عربي", "\u202E", "\\", "\\u0000", "'", ";", " → ", ": ", " ", "plain", "=HYPERLINK(\"http://evil.test\")",
        "<script>", "null", "true", "1e309",
    ];

    private static readonly string[] JsonValues =
    [
        "null", "0", "-1.50", "1e309", "12345678901234567890", "\"\"", "\"a,b\\\"c\\nd\"", "\"\\u0000\\uFFFF\\ud83d\\ude80\"", "\"=1+2\"",
        "true", "false", "[]", "{}", "[1,\"x\",null,{\"k\":[true]}]", "{ \"name\" : \"Zoë\", \"tags\" : [ \"a\" , \"b\" ] }", "\"\\u2192 arrow\"",
    ];

    public static List<AuditEvent> Generate(int count, string orgId, DateTimeOffset end, int seed = 7)
    {
        var rng = new Random(seed);
        var list = new List<AuditEvent>(count);
        for (var i = 0; i < count; i++)
        {
            var time = AuditJson.TruncateToMilliseconds(end.AddMinutes(-rng.Next(60 * 24 * 60)).AddMilliseconds(-rng.Next(1000)));
            var changes = Enumerable.Range(0, rng.Next(4))
                .Select(_ => new AuditChange(Text(rng, 12), Json(rng), Json(rng)))
                .ToList();
            var ai = rng.Next(3) == 0;
            list.Add(Some.Event("evt_h" + i.ToString("D5", CultureInfo.InvariantCulture) + Text(rng, 3).Replace("\0", "", StringComparison.Ordinal), orgId, time) with
            {
                Category = rng.Next(2) == 0 ? Categories.Crm : Categories.Ai,
                Action = Text(rng, 8),
                EventType = Text(rng, 8),
                Actor = new AuditActor(ActorTypes.User, Maybe(rng, 6), Maybe(rng, 20), Maybe(rng, 10)),
                Entity = new AuditEntity(Text(rng, 5), Maybe(rng, 8), Maybe(rng, 30)),
                Ip = Maybe(rng, 4),
                UserAgent = Maybe(rng, 40),
                Changes = changes,
                Before = Json(rng),
                After = Json(rng),
                Ai = ai ? new AuditAi(rng.Next(2) == 0, Maybe(rng, 6), Maybe(rng, 6), Text(rng, 4)) : null,
                Details = JsonDocument.Parse("{\"note\":" + JsonSerializer.Serialize(Text(rng, 10)) + ",\"n\":" + JsonValues[rng.Next(JsonValues.Length)] + "}").RootElement.Clone(),
                ReceivedAt = time.AddMilliseconds(rng.Next(5000)),
            });
        }

        return list;
    }

    private static string Text(Random rng, int maxPieces)
    {
        var sb = new StringBuilder();
        var n = 1 + rng.Next(maxPieces);
        for (var i = 0; i < n; i++)
        {
            sb.Append(Pieces[rng.Next(Pieces.Length)]);
        }

        return sb.ToString();
    }

    private static string? Maybe(Random rng, int maxPieces) => rng.Next(5) switch
    {
        0 => null,
        1 => "",
        _ => Text(rng, maxPieces),
    };

    private static JsonElement? Json(Random rng) =>
        rng.Next(4) == 0 ? null : JsonDocument.Parse(JsonValues[rng.Next(JsonValues.Length)]).RootElement.Clone();
}
