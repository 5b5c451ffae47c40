using AuditPipeline.Core.Events;
using AuditPipeline.Embedded.Storage;
using AuditPipeline.Testing;
using AuditPipeline.Testing.StoreContract;

namespace AuditPipeline.Embedded.Tests.Storage;

/// <summary>
/// A batch's stored forms are the same whichever threads encode which chunks: the background work
/// item, or the partition lanes that need a chunk first and encode it themselves.
/// </summary>
public sealed class EncodedTests
{
    private static readonly DateTimeOffset Nov = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(31, 2)]
    [InlineData(33, 4)]
    [InlineData(1000, 4)]
    [InlineData(1000, 8)]
    public async Task Every_event_gets_exactly_its_own_forms_whoever_encodes_it(int count, int readers)
    {
        var events = ContractData.Generate(count, seed: count, start: Nov.AddMonths(-2), end: Nov)
            .Concat(HostileEvents.Generate(count / 4, "org_42", Nov, seed: count))
            .Select((e, i) => i % 97 == 5 ? e with { Details = default } : e)
            .ToList();

        for (var round = 0; round < 5; round++)
        {
            var encoded = Encoded.Start(events);

            // Each reader walks the batch in its own order, as lanes walk their own partition's events.
            var seen = await Task.WhenAll(Enumerable.Range(0, readers).Select(r => Task.Run(() =>
            {
                var order = Enumerable.Range(0, events.Count).ToArray();
                new Random(round * 31 + r).Shuffle(order);
                return order.Select(i => (i, Doc: encoded.Doc(i, out var error), Error: error, Body: encoded.Body(i))).ToList();
            }, TestContext.Current.CancellationToken)));

            foreach (var (i, doc, error, body) in seen.SelectMany(s => s))
            {
                if (events[i].Details.ValueKind == System.Text.Json.JsonValueKind.Undefined)
                {
                    Assert.Null(doc);
                    Assert.StartsWith("the event cannot be encoded for the store: ", error, StringComparison.Ordinal);
                    continue;
                }

                Assert.Null(error);
                Assert.Equal(AuditJson.SerializeToUtf8Bytes(events[i]), doc);
                Assert.Equal(SearchText.Body(events[i]), body);
            }
        }
    }
}
