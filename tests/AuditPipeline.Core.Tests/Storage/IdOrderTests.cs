using System.Text;
using AuditPipeline.Core.Storage;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace AuditPipeline.Core.Tests.Storage;

public class IdOrderTests
{
    [Theory]
    [InlineData("evt_a", "evt_b")]
    [InlineData("evt_", "evt_a")]
    [InlineData("evt_B", "evt_a")]
    [InlineData("evt_\uE000", "evt_\U0001F600")] // UTF-16 ordinal says the other way round
    [InlineData("evt_\uFFFD", "evt_\U00010000")]
    [InlineData("evt_\uD7FF", "evt_\U00010000")]
    public void Sorts_before(string a, string b)
    {
        Assert.True(IdOrder.CompareIds(a, b) < 0);
        Assert.True(IdOrder.CompareIds(b, a) > 0);
        Assert.Equal(0, IdOrder.CompareIds(a, a));
    }

    /// <summary>The order SQLite's BINARY collation and Elasticsearch's keyword sort use: the ids' UTF-8 bytes.</summary>
    [Property(MaxTest = 5000)]
    public Property Orders_as_the_utf8_bytes_do() =>
        Prop.ForAll(Ids().ToArbitrary(), Ids().ToArbitrary(), (a, b) =>
            Math.Sign(IdOrder.CompareIds(a, b)) == Math.Sign(Encoding.UTF8.GetBytes(a).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b))));

    private static Gen<string> Ids()
    {
        string[] pieces = ["a", "B", "_", "0", "\u007F", "\u0080", "\u07FF", "\u0800", "\uD7FF", "\uE000", "\uF8FF", "\uFFFD", "\uFFFF", "\U00010000", "\U0001F600", "\U0010FFFF"];
        return PieceStrings.Of(pieces, 6);
    }
}
