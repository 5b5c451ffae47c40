using System.Text;
using AuditPipeline.Api.Tests.Support;
using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using AuditPipeline.Embedded;
using AuditPipeline.Embedded.Storage;
using AuditPipeline.Testing;
using AuditPipeline.Testing.StoreContract;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Api.Tests;

/// <summary>
/// events.csv from the embedded store is byte for byte the CSV of the in-memory reference store for the
/// same events: the store's own document reader, its chunked and prefetched stream, and rows in both
/// the indexed table and the not yet merged tail must not change one byte of what a client receives.
/// </summary>
public sealed class CsvStoreEquivalenceTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "auditpipeline-api-tests", Guid.NewGuid().ToString("N"));
    private SqliteAuditStore _embeddedStore = null!;
    private ApiHost _memory = null!;
    private ApiHost _embedded = null!;

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        var retention = Options.Create(new RetentionOptions());

        // Small merges: most rows end up in the indexed tables, the last batches of each month in tails.
        _embeddedStore = new SqliteAuditStore(
            Options.Create(new EmbeddedStoreOptions { Path = Path.Combine(_dir, "store"), MergeRows = 700 }),
            new RetentionPlanRegistry(retention),
            retention);
        _memory = await ApiHost.StartAsync(store: new InMemoryAuditStore(), directory: Path.Combine(_dir, "memory"));
        _embedded = await ApiHost.StartAsync(store: _embeddedStore, directory: Path.Combine(_dir, "embedded"));

        var events = HostileEvents.Generate(3000, TestKeys.Org, ApiHost.DefaultNow, seed: 11)
            .Concat(ContractData.Generate(1500, seed: 12, orgs: [TestKeys.Org, TestKeys.OtherOrg]))
            .ToList();
        foreach (var batch in events.Chunk(450))
        {
            foreach (var store in new IAuditStore[] { _memory.Store, _embedded.Store })
            {
                var results = await store.AppendAsync(batch, CancellationToken.None);
                Assert.All(results, r => Assert.Equal(AppendOutcome.Stored, r.Outcome));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _embedded.DisposeAsync();
        await _memory.DisposeAsync();
        _embeddedStore.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open; the temp folder is cleaned by the OS eventually.
        }
    }

    [Fact]
    public async Task Every_csv_of_hostile_events_is_the_same_bytes_from_both_stores()
    {
        Assert.True(_embeddedStore.Partitions.Any(p => p.HasTail), "some rows must still be in a tail");

        // The whole organisation first: every export appends its own audit event (category data), which
        // the later, filtered requests leave out.
        string[] queries = ["", "category=crm", "category=ai&outcome=success", "q=evt_h", "entityType=deal&range=90d", "q=ana"];
        foreach (var query in queries)
        {
            var expected = await CsvAsync(_memory, query);
            var actual = await CsvAsync(_embedded, query);
            var at = FirstDifference(expected, actual);
            Assert.True(at < 0, $"events.csv?{query}: the embedded store's CSV differs from byte {at} ({expected.Length} vs {actual.Length} bytes): " +
                $"expected …{Show(expected, at)}… got …{Show(actual, at)}…");
            if (query.Length == 0)
            {
                // Not vacuous: the file holds the hostile cells, quoted and neutralised.
                var text = Encoding.UTF8.GetString(expected);
                var rows = CsvReading.Parse(text.TrimStart('\uFEFF'));
                Assert.True(rows.Count > 3000, $"{rows.Count} rows");
                Assert.Contains('\0', text);
                Assert.Contains("🚀", text, StringComparison.Ordinal);
                Assert.Contains("\uFFFF", text, StringComparison.Ordinal);
                Assert.Contains(rows, r => r[1].StartsWith("'=", StringComparison.Ordinal));
                Assert.Contains(rows, r => r[12].Contains('\n', StringComparison.Ordinal));
                Assert.Contains(rows, r => r[16].Contains("\\u0000", StringComparison.Ordinal) || r[16].Contains('\0', StringComparison.Ordinal));
            }
        }
    }

    private static async Task<byte[]> CsvAsync(ApiHost host, string query)
    {
        using var response = await host.Client().GetAsync($"/v1/orgs/{TestKeys.Org}/events.csv?{query}");
        Assert.True(response.IsSuccessStatusCode, $"events.csv?{query}: {(int)response.StatusCode}");
        return await response.Content.ReadAsByteArrayAsync();
    }

    private static int FirstDifference(byte[] a, byte[] b)
    {
        var common = a.AsSpan().CommonPrefixLength(b);
        return common == a.Length && common == b.Length ? -1 : common;
    }

    private static string Show(byte[] bytes, int at) =>
        Encoding.UTF8.GetString(bytes, Math.Max(0, at - 40), Math.Min(bytes.Length, at + 40) - Math.Max(0, at - 40));
}
