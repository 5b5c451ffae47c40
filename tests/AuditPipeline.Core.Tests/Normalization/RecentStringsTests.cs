using System.Text;
using AuditPipeline.Core.Normalization;
using AuditPipeline.Testing;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace AuditPipeline.Core.Tests.Normalization;

/// <summary>
/// The strings shared across messages: always the text of the bytes (whatever collides or was there
/// before), the same instance for recurring ASCII values, and only for the fields whose values recur.
/// </summary>
public class RecentStringsTests
{
    [Property(MaxTest = 300)]
    public Property Every_lookup_gives_the_text_of_its_bytes() =>
        Prop.ForAll(Gen.ListOf(Text(), 200).ToArbitrary(), texts =>
        {
            // One sequence of many values (ASCII, not ASCII, long, empty) through one thread's table, twice.
            var wrong = texts.Concat(texts).Select(t => Encoding.UTF8.GetBytes(t))
                .Where(b => RecentStrings.Get(b) != Encoding.UTF8.GetString(b))
                .Select(Encoding.UTF8.GetString)
                .ToList();
            return (wrong.Count == 0).Label($"wrong for: {string.Join(" | ", wrong)}");
        });

    [Fact]
    public void Many_distinct_values_that_collide_still_read_back_as_themselves()
    {
        // 20,000 values into 8,192 slots: most slots are taken and retaken.
        var values = Enumerable.Range(0, 20_000).Select(i => $"usr_{i:D5}@org{i % 97}.example").ToArray();
        foreach (var _ in Enumerable.Range(0, 2))
        {
            foreach (var v in values)
            {
                Assert.Equal(v, RecentStrings.Get(Encoding.UTF8.GetBytes(v)));
            }
        }
    }

    [Fact]
    public void A_recurring_ascii_value_is_one_instance_and_a_long_or_non_ascii_one_is_decoded_each_time()
    {
        var ascii = Encoding.UTF8.GetBytes("ana@acme.test");
        Assert.Same(RecentStrings.Get(ascii), RecentStrings.Get(ascii));

        var accented = Encoding.UTF8.GetBytes("José Müller");
        Assert.Equal("José Müller", RecentStrings.Get(accented));
        Assert.NotSame(RecentStrings.Get(accented), RecentStrings.Get(accented));

        var longer = Encoding.UTF8.GetBytes(new string('a', RecentStrings.MaxBytes + 1));
        Assert.NotSame(RecentStrings.Get(longer), RecentStrings.Get(longer));
        Assert.Equal(new string('a', RecentStrings.MaxBytes + 1), RecentStrings.Get(longer));
    }

    [Fact]
    public void Two_messages_share_who_and_where_but_not_ids_or_records()
    {
        var normalizer = new AuditNormalizer();
        var a = normalizer.Normalize(SourceKind.Crm, Encoding.UTF8.GetBytes(SamplePayloads.Crm(id: "evt_1")), SamplePayloads.ExampleTime).Event!;
        var b = normalizer.Normalize(SourceKind.Crm, Encoding.UTF8.GetBytes(SamplePayloads.Crm(id: "evt_1")), SamplePayloads.ExampleTime).Event!;

        Assert.Same(a.OrgId, b.OrgId);
        Assert.Same(a.EventType, b.EventType);
        Assert.Same(a.Actor.Id, b.Actor.Id);
        Assert.Same(a.Actor.Email, b.Actor.Email);
        Assert.Same(a.Ip, b.Ip);
        Assert.Same(a.UserAgent, b.UserAgent);
        Assert.Same(a.Changes[0].Field, b.Changes[0].Field);

        Assert.Equal(a.Id, b.Id);
        Assert.NotSame(a.Id, b.Id);
        Assert.NotSame(a.Entity.Id, b.Entity.Id);
        Assert.NotSame(a.Entity.Name, b.Entity.Name);
    }

    private static Gen<string> Text() => Gen.Frequency(
        (6, from n in Gen.Choose(0, 70) from cs in Gen.ArrayOf(Gen.Choose(0x20, 0x7E).Select(c => (char)c), n) select new string(cs)),
        (2, Gen.Elements("é", "José", "😀", "日本語テキスト", "a\u0000b", "")),
        (1, from n in Gen.Choose(60, 80) select new string('x', n)));
}
