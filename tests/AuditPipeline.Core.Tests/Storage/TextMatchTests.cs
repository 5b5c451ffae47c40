using AuditPipeline.Core.Storage;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace AuditPipeline.Core.Tests.Storage;

public class TextMatchTests
{
    [Theory]
    [InlineData("ana", "ana@acme.test")]
    [InlineData("ana@acme", "ana@acme.test")]
    [InlineData("ACME", "ana@acme.test")]
    [InlineData("test", "ana@acme.test")]
    [InlineData("deal_123", "deal_123")]
    [InlineData("123", "deal_123")]
    [InlineData("silva", "Ana Silva")]
    [InlineData("ana silva", "Ana Silva")]
    public void A_term_matches_from_a_word_start(string term, string text) => Assert.True(TextMatch.Matches(term, text));

    [Theory]
    [InlineData("cme", "ana@acme.test")]
    [InlineData("na", "ana@acme.test")]
    [InlineData("@acme", "ana@acme.test")]
    [InlineData("ana@acme.test.x", "ana@acme.test")]
    [InlineData("eal", "deal_123")]
    public void A_term_inside_a_word_does_not_match(string term, string text) => Assert.False(TextMatch.Matches(term, text));

    [Fact]
    public void Terms_split_on_any_white_space() =>
        Assert.Equal(["ana", "deal_123"], TextMatch.Terms("  ana \t deal_123\n"));

    [Theory]
    [InlineData("id", "\u0131d")] // dotless i: ToUpperInvariant gives I, ordinal-ignore-case does not equate them
    [InlineData("sam", "\u017Fam")] // long s, likewise
    [InlineData("\u0131d", "ID")]
    [InlineData("kelvin", "\u212Aelvin")] // Kelvin sign
    public void A_non_ascii_letter_that_case_maps_to_an_ascii_one_is_decided_by_the_full_check(string term, string text) =>
        Assert.Equal(Reference(term, text), TextMatch.Matches(term, text));

    /// <summary>
    /// The first-character shortcut must never change an answer: the same result as checking every
    /// word start in full, on texts from an alphabet of case-folding traps (dotless and dotted i, long s,
    /// Kelvin sign, sharp s, Greek sigmas, a surrogate pair, digits, separators).
    /// </summary>
    [Property(MaxTest = 3000)]
    public Property Matches_as_the_full_check_at_every_word_start_does() =>
        Prop.ForAll(Texts(4).ToArbitrary(), Texts(24).ToArbitrary(), (term, text) => TextMatch.Matches(term, text) == Reference(term, text));

    private static Gen<string> Texts(int maxLength)
    {
        string[] pieces = ["a", "A", "i", "I", "\u0131", "\u0130", "s", "S", "\u017F", "k", "K", "\u212A", "\u00DF", "\u03C3", "\u03C2", "\u03A3", "\uD83D\uDE00", "1", "_", "@", " ", ".", "n", "N", "\u00E9", "\u00C9"];
        return PieceStrings.Of(pieces, maxLength);
    }

    private static bool Reference(string term, string? text)
    {
        if (text is null || term.Length == 0 || term.Length > text.Length)
        {
            return false;
        }

        for (var i = 0; i <= text.Length - term.Length; i++)
        {
            var wordStart = char.IsLetterOrDigit(text[i]) && (i == 0 || !char.IsLetterOrDigit(text[i - 1]));
            if (wordStart && text.AsSpan(i, term.Length).Equals(term, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
