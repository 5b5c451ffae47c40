using AuditPipeline.Core.Events;

namespace AuditPipeline.Core.Storage;

/// <summary>
/// Free-text matching of the facade's <c>q</c>: a term matches a text when, case-insensitively, the
/// text from some word start onwards begins with the term (a word is a run of letters and digits).
/// So <c>ana</c>, <c>ana@acme</c> and <c>acme</c> all find <c>ana@acme.test</c>; <c>cme</c> does not.
/// The searched texts are the actor's name and email, the entity's name and id, and the event id.
/// </summary>
public static class TextMatch
{
    public static bool MatchesAll(IReadOnlyList<string> terms, AuditEvent e)
    {
        for (var i = 0; i < terms.Count; i++)
        {
            if (!MatchesAny(terms[i], e))
            {
                return false;
            }
        }

        return true;
    }

    public static bool MatchesAny(string term, AuditEvent e) =>
        Matches(term, e.Actor.Name) || Matches(term, e.Actor.Email) ||
        Matches(term, e.Entity.Name) || Matches(term, e.Entity.Id) || Matches(term, e.Id);

    public static bool Matches(string term, string? text)
    {
        if (text is null || term.Length == 0 || term.Length > text.Length)
        {
            return false;
        }

        // Two ASCII characters are equal ignoring case exactly when their ASCII lower cases are (no
        // case mapping leads out of ASCII), so most positions are ruled out on their first character
        // before the word-start and span checks; a non-ASCII character on either side takes the full check.
        var first = term[0];
        var firstLower = first < 128 ? AsciiLower(first) : -1;
        for (var i = 0; i <= text.Length - term.Length; i++)
        {
            var c = text[i];
            if (firstLower >= 0 && c < 128 && AsciiLower(c) != firstLower)
            {
                continue;
            }

            if (IsWordStart(text, i) && text.AsSpan(i, term.Length).Equals(term, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static int AsciiLower(char c) => c is >= 'A' and <= 'Z' ? c + 32 : c;

    /// <summary>Splits <c>q</c> into terms on white space.</summary>
    public static IReadOnlyList<string> Terms(string? q) =>
        string.IsNullOrWhiteSpace(q) ? [] : q.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The words of a text (runs of letters and digits), for building a search index.</summary>
    public static IEnumerable<string> Words(string? text)
    {
        if (text is null)
        {
            yield break;
        }

        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var inWord = i < text.Length && char.IsLetterOrDigit(text[i]);
            if (inWord && start < 0)
            {
                start = i;
            }
            else if (!inWord && start >= 0)
            {
                yield return text[start..i];
                start = -1;
            }
        }
    }

    private static bool IsWordStart(string text, int i) =>
        char.IsLetterOrDigit(text[i]) && (i == 0 || !char.IsLetterOrDigit(text[i - 1]));
}
