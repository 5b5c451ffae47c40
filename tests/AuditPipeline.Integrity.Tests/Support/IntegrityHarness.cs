using AuditPipeline.Core.Events;
using AuditPipeline.Core.Ingest;
using AuditPipeline.Core.Integrity;
using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using AuditPipeline.Embedded;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AuditPipeline.Integrity.Tests.Support;

/// <summary>
/// An embedded store with sealing wired as the worker wires it (observer, sealer, digest directory),
/// driven by hand: append, seal, verify, and tamper with the files behind the pipeline's back.
/// </summary>
public sealed class IntegrityHarness : IAsyncDisposable
{
    private readonly Dictionary<string, string?> _settings;
    private ServiceProvider _services;

    public IntegrityHarness(Action<Dictionary<string, string?>>? configure = null)
    {
        Root = Path.Combine(Path.GetTempPath(), "integrity-tests", Guid.NewGuid().ToString("N"));
        _settings = new Dictionary<string, string?>
        {
            ["Store:Embedded:Path"] = DataPath,
            ["Integrity:SealInterval"] = "00:01:00",
        };
        configure?.Invoke(_settings);
        _services = Build();
    }

    public string Root { get; }

    public string DataPath => Path.Combine(Root, "data");

    public string DigestPath => Path.Combine(DataPath, "digests");

    public IAuditStore Store => _services.GetRequiredService<IAuditStore>();

    internal DigestSealer Sealer => _services.GetRequiredService<DigestSealer>();

    internal DigestSigner Signer => _services.GetRequiredService<DigestSigner>();

    internal IntegrityState State => _services.GetRequiredService<IntegrityState>();

    public DateTimeOffset Now { get; set; } = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Prepares the events (the batch stage), stores them and tells the observer, as the pipeline does.</summary>
    public async Task<IReadOnlyList<AppendResult>> AppendAsync(params AuditEvent[] events)
    {
        foreach (var e in events)
        {
            foreach (var o in _services.GetServices<IAppendObserver>())
            {
                o.Prepare(e);
            }
        }

        var results = await Store.AppendAsync(events, CancellationToken.None);
        foreach (var o in _services.GetServices<IAppendObserver>())
        {
            await o.OnAppendedAsync(events, results, CancellationToken.None);
        }

        return results;
    }

    public Task<int> SealAsync() => Sealer.SealAsync(CancellationToken.None);

    /// <summary>The verify verb's check on the digest directory with its public-key.pem; problem lines and totals.</summary>
    public async Task<Verification> VerifyAsync(string? org = null, string? publicKeyPem = null, DateTimeOffset? from = null, DateTimeOffset? to = null)
    {
        var pem = publicKeyPem ?? await File.ReadAllTextAsync(Path.Combine(DigestPath, "public-key.pem"));
        using var key = new DigestSignatureCheck(pem);
        var lines = new List<string>();
        var verifier = new IntegrityVerifier(Store, _services.GetRequiredService<RetentionPlanRegistry>(), TimeSpan.FromMinutes(1), new FixedTime(() => Now));
        var (events, digests, problems) = await verifier.RunAsync(new DigestDirectory(DigestPath), key, org, from, to, p => lines.Add(p.Line), CancellationToken.None);
        return new Verification(lines, events, digests, problems);
    }

    /// <summary>Runs SQL straight on a partition file, as the files' owner could.</summary>
    public void Sql(string partitionFile, string sql)
    {
        using (var conn = new SqliteConnection($"Data Source={Path.Combine(DataPath, partitionFile)};Pooling=False"))
        {
            conn.Open();
            using var cmd = conn.CreateCommand();
            cmd.CommandText = sql;
            cmd.ExecuteNonQuery();
        }
    }

    /// <summary>Stops and starts again on the same directories (what a worker restart does).</summary>
    public async Task RestartAsync(Action? whileStopped = null)
    {
        await _services.DisposeAsync();
        SqliteConnection.ClearAllPools();
        whileStopped?.Invoke();
        _services = Build();
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private ServiceProvider Build()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(_settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(new FixedTime(() => Now));
        services.AddIntegrity(configuration);
        services.AddEmbeddedStore(configuration);
        services.AddEmbeddedDigestCopy();
        var provider = services.BuildServiceProvider();
        provider.GetRequiredService<DigestSealer>().Reconcile();
        return provider;
    }

    private sealed class FixedTime(Func<DateTimeOffset> now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now();
    }
}

public sealed record Verification(IReadOnlyList<string> Lines, long Events, long Digests, long Problems);
