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
[Collection(nameof(SharedStringTable))]
public class RecentStringsTests
{
    /// <summary>A table of the tests' own, so that no other test's lookups replace what these look at.</summary>
    private static readonly RecentStrings Strings = new();
    [Property(MaxTest = 300)]
    public Property Every_lookup_gives_the_text_of_its_bytes() =>
        Prop.ForAll(Gen.ListOf(Text(), 200).ToArbitrary(), texts =>
        {
            // One sequence of many values (ASCII, not ASCII, long, empty) through the table, twice.
            var wrong = texts.Concat(texts).Select(t => Encoding.UTF8.GetBytes(t))
                .Where(b => Strings.Get(b) != Encoding.UTF8.GetString(b))
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
                Assert.Equal(v, Strings.Get(Encoding.UTF8.GetBytes(v)));
            }
        }
    }

    [Fact]
    public void Threads_sharing_the_table_each_read_back_their_own_text()
    {
        // Four threads race over the same slots: 400 values they share and 5,000 of their own each, all
        // in at most 8,192 slots, so slots are read while another thread replaces them.
        var shared = Enumerable.Range(0, 400).Select(i => $"org_{i}").ToArray();
        var wrong = 0;
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            var own = Enumerable.Range(0, 5_000).Select(i => $"t{t}_usr_{i}@example.test").ToArray();
            var bytes = shared.Concat(own).Select(v => (Text: v, Utf8: Encoding.UTF8.GetBytes(v))).ToArray();
            for (var round = 0; round < 40; round++)
            {
                foreach (var (text, utf8) in bytes)
                {
                    if (Strings.Get(utf8) != text)
                    {
                        Interlocked.Increment(ref wrong);
                    }
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.Equal(0, wrong);
    }

    [Fact]
    public void A_string_one_thread_decoded_is_the_one_another_thread_gets()
    {
        var utf8 = Encoding.UTF8.GetBytes("usr_shared_between_threads");
        string? first = null;
        var strings = new RecentStrings();
        var thread = new Thread(() => first = strings.Get(utf8));
        thread.Start();
        thread.Join();

        Assert.Same(first, strings.Get(utf8));
    }

    [Fact]
    public void A_recurring_ascii_value_is_one_instance_and_a_long_or_non_ascii_one_is_decoded_each_time()
    {
        var ascii = Encoding.UTF8.GetBytes("ana@acme.test");
        Assert.Same(Strings.Get(ascii), Strings.Get(ascii));

        var accented = Encoding.UTF8.GetBytes("José Müller");
        Assert.Equal("José Müller", Strings.Get(accented));
        Assert.NotSame(Strings.Get(accented), Strings.Get(accented));

        var longer = Encoding.UTF8.GetBytes(new string('a', RecentStrings.MaxBytes + 1));
        Assert.NotSame(Strings.Get(longer), Strings.Get(longer));
        Assert.Equal(new string('a', RecentStrings.MaxBytes + 1), Strings.Get(longer));
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

/// <summary>
/// Tests that look at the normalizer's own table run alone: a test running beside them could replace a slot
/// between the two lookups they compare.
/// </summary>
[CollectionDefinition(nameof(SharedStringTable), DisableParallelization = true)]
public sealed class SharedStringTable;
