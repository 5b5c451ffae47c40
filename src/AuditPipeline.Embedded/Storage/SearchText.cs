using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;

namespace AuditPipeline.Embedded.Storage;

/// <summary>
/// The free-text index: the words (as <see cref="TextMatch.Words"/> splits them) of the searched
/// fields, and the FTS5 query that finds a superset of the events a set of terms matches. The index
/// only narrows; <see cref="TextMatch"/> decides.
/// </summary>
internal static class SearchText
{
    private const int MaxCachedKeys = 100_000;
    private static readonly ConcurrentDictionary<string, string> Keys = new(StringComparer.Ordinal);

    /// <summary>
    /// The indexed words of an event. Scoped (every new partition), each word is prefixed with the
    /// organisation's key, so the index holds one list per organisation and word: a word frequent in
    /// one organisation never lengthens another's candidate list or its query time.
    /// </summary>
    public static string Body(AuditEvent e, bool scoped = true)
    {
        var key = scoped ? OrgKey(e.OrgId) : "";
        var sb = new StringBuilder(160);
        Append(sb, key, e.Actor.Name);
        Append(sb, key, e.Actor.Email);
        Append(sb, key, e.Entity.Name);
        Append(sb, key, e.Entity.Id);
        Append(sb, key, e.Id);
        return sb.ToString();
    }

    /// <summary>
    /// Twelve hex digits of the SHA-256 of the organisation id: letters and digits only, so the key and
    /// the word stay one token. Two organisations sharing a key (one chance in 2^48) only share lists;
    /// the organisation is still checked on every row.
    /// </summary>
    public static string OrgKey(string orgId)
    {
        if (Keys.TryGetValue(orgId, out var key))
        {
            return key;
        }

        key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(orgId)), 0, 6);
        if (Keys.Count < MaxCachedKeys)
        {
            Keys.TryAdd(orgId, key);
        }

        return key;
    }

    /// <summary>
    /// An FTS5 expression every event matching all <paramref name="terms"/> satisfies: for each term,
    /// its longest word as a prefix (a term matching from a word start contains each of its words as
    /// the prefix of a word of the text). One word per term keeps the index lookup cheap (a common
    /// word like <c>evt</c> would make it merge huge lists); the longest is usually the rarest. Null
    /// when some term has no word (then the index cannot narrow). Without <paramref name="prefix"/>,
    /// each longest word must be a whole indexed word: a subset of the prefix expression's matches.
    /// </summary>
    public static string? MatchExpression(IReadOnlyList<string> terms, string orgKey = "", bool prefix = true)
    {
        var sb = new StringBuilder();
        foreach (var term in terms)
        {
            var longest = LongestWord(term);
            if (longest.Length == 0)
            {
                return null;
            }

            sb.Append(sb.Length > 0 ? " AND " : "").Append('"').Append(orgKey).Append(longest.Replace("\"", "\"\"", StringComparison.Ordinal)).Append(prefix ? "\"*" : "\"");
        }

        return sb.Length == 0 ? null : sb.ToString();
    }

    /// <summary>
    /// The length of the shortest of the words <see cref="MatchExpression"/> would look up (each term's
    /// longest word); 0 when some term has no word. The shorter the prefix, the more indexed words it
    /// starts and the longer the lists the text index merges for it.
    /// </summary>
    public static int ShortestKeyLength(IReadOnlyList<string> terms)
    {
        var shortest = int.MaxValue;
        foreach (var term in terms)
        {
            shortest = Math.Min(shortest, LongestWord(term).Length);
        }

        return shortest == int.MaxValue ? 0 : shortest;
    }

    /// <summary>The term's longest word (the first of equal length), the one the text index is asked for; empty when it has none.</summary>
    private static string LongestWord(string term)
    {
        var longest = "";
        foreach (var word in TextMatch.Words(term))
        {
            if (word.Length > longest.Length)
            {
                longest = word;
            }
        }

        return longest;
    }

    /// <summary>
    /// True when some term can match nothing at all: a match starts at a letter or digit, so a term
    /// starting with an ASCII character that is neither never matches.
    /// </summary>
    public static bool AnyTermImpossible(IReadOnlyList<string> terms)
    {
        foreach (var term in terms)
        {
            if (term.Length == 0 || (char.IsAscii(term[0]) && !char.IsAsciiLetterOrDigit(term[0])))
            {
                return true;
            }
        }

        return false;
    }

    private static void Append(StringBuilder sb, string key, string? text)
    {
        foreach (var word in TextMatch.Words(text))
        {
            sb.Append(key).Append(word).Append(' ');
        }
    }
}
