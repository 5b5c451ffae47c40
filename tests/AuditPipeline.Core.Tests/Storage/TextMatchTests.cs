using AuditPipeline.Core.Storage;

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
}
