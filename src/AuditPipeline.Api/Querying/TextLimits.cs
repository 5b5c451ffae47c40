using System.Globalization;

namespace AuditPipeline.Api.Querying;

/// <summary>
/// The caps on free text (contract section 4): all of <c>q</c> together holds at most
/// <see cref="MaxTerms"/> whitespace-separated terms of at most <see cref="MaxTermLength"/> characters
/// (UTF-16 code units, the stricter count). Every term must match, so each one costs the store a lookup:
/// the cap keeps one request's work bounded whatever the client sends.
/// </summary>
internal static class TextLimits
{
    public const int MaxTerms = 16;
    public const int MaxTermLength = 256;

    public static string TooManyTerms(int count) =>
        $"q may hold at most {MaxTerms} terms (was given {count}); every term must match, so drop the least specific ones.";

    /// <summary>The first problem with the terms, or null when they are within the caps.</summary>
    public static string? Check(IReadOnlyList<string> terms)
    {
        if (terms.Count > MaxTerms)
        {
            return TooManyTerms(terms.Count);
        }

        for (var i = 0; i < terms.Count; i++)
        {
            if (terms[i].Length > MaxTermLength)
            {
                return string.Create(
                    CultureInfo.InvariantCulture,
                    $"q terms may be at most {MaxTermLength} characters long (term {i + 1} has {terms[i].Length}); search for a shorter part of it.");
            }
        }

        return null;
    }
}
