using AuditPipeline.Core.Events;
using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using AuditPipeline.Embedded;
using AuditPipeline.Embedded.Storage;
using AuditPipeline.Testing.StoreContract;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Benchmarks;

/// <summary>
/// Appending one batch of 1,000 realistic events (one transaction, synchronous=FULL) and reading a
/// filtered first page. For the 1,000,000-event numbers see <see cref="EmbeddedStoreMeasurement"/>.
/// <code>dotnet run -c Release --project tests/AuditPipeline.Benchmarks -- --filter '*EmbeddedStoreBenchmarks*'</code>
/// </summary>
[MemoryDiagnoser]
public class EmbeddedStoreBenchmarks
{
    private string _path = "";
    private SqliteAuditStore _store = null!;
    private List<AuditEvent[]> _batches = [];
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _path = Path.Combine(Path.GetTempPath(), "auditpipeline-bdn-" + Guid.NewGuid().ToString("N"));
        var retention = new RetentionOptions();
        _store = new SqliteAuditStore(Options.Create(new EmbeddedStoreOptions { Path = _path }), new RetentionPlanRegistry(Options.Create(retention)), Options.Create(retention));
        var start = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        _batches = [.. ContractData.Generate(200_000, seed: 1, orgs: ["org_bench"], start: start).Chunk(1000)];
        _store.AppendAsync(_batches[0], CancellationToken.None).GetAwaiter().GetResult();
        _next = 1;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.Dispose();
        Directory.Delete(_path, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = 1000)]
    public async Task AppendBatchOf1000()
    {
        var batch = _batches[_next++ % _batches.Count];
        await _store.AppendAsync(batch, CancellationToken.None);
    }

    [Benchmark]
    public Task<AuditPage> FirstPageByUser() =>
        _store.QueryAsync(new AuditQuery { OrgId = "org_bench", Users = ["usr_7"] }, 50, CancellationToken.None);
}
