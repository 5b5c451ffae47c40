using System.Text.Json.Nodes;
using AuditPipeline.Core.Ingest;
using AuditPipeline.Core.Integrity;
using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using AuditPipeline.Elasticsearch;
using AuditPipeline.Integrity.Tests.Support;
using AuditPipeline.Testing;
using Elastic.Clients.Elasticsearch;
using Elastic.Transport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AuditPipeline.Integrity.Tests;

/// <summary>The same verification on the Elasticsearch store, with the cluster's documents changed at request level.</summary>
public sealed class ElasticsearchTamperTests : IAsyncLifetime
{
    private readonly FakeCluster _cluster = new();
    private readonly string _root = Path.Combine(Path.GetTempPath(), "integrity-es-tests", Guid.NewGuid().ToString("N"));
    private readonly List<string> _ids = [];
    private ServiceProvider _services = null!;

    private string Digests => Path.Combine(_root, "digests");

    public async ValueTask InitializeAsync()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Elasticsearch:Url"] = "http://es.test:9200",
            ["Store:Embedded:Path"] = _root,
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(new ElasticsearchClient(new ElasticsearchClientSettings(new SingleNodePool(new Uri("http://es.test:9200")), _cluster)));
        services.AddIntegrity(configuration);
        services.AddElasticsearchStore(configuration);
        services.AddElasticsearchDigestCopy();
        _services = services.BuildServiceProvider();
        _services.GetRequiredService<DigestSealer>().Reconcile();

        var store = _services.GetRequiredService<IAuditStore>();
        var observer = _services.GetServices<IAppendObserver>().Single();
        foreach (var month in new[] { 10, 11 })
        {
            var batch = Enumerable.Range(0, 4).Select(i => Some.Event(time: new DateTimeOffset(2026, month, 5, 9, i, 0, TimeSpan.Zero))).ToArray();
            var results = await store.AppendAsync(batch, TestContext.Current.CancellationToken);
            await observer.OnAppendedAsync(batch, results, TestContext.Current.CancellationToken);
            _ids.AddRange(batch.Select(e => e.Id));
            await _services.GetRequiredService<DigestSealer>().SealAsync(TestContext.Current.CancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task A_clean_cluster_verifies_and_the_digests_went_to_their_own_write_once_index()
    {
        var v = await VerifyAsync();

        Assert.Empty(v.Lines);
        Assert.Equal((8L, 2L), (v.Events, v.Digests));
        Assert.Equal(2, _cluster.Documents.Keys.Count(k => k.Index == "audit-digests"));
    }

    [Fact]
    public async Task Altered_deleted_and_inserted_documents_are_each_named()
    {
        var (alteredKey, altered) = Event(_ids[1]);
        altered["user"]!["name"] = "Someone Else";
        var (deletedKey, _) = Event(_ids[6]);
        _cluster.Documents.TryRemove(deletedKey, out _);
        var (_, template) = Event(_ids[2]);
        var forged = template.DeepClone().AsObject();
        forged["event"]!["id"] = "evt_forged";
        _cluster.Documents[(alteredKey.Index, "evt_forged")] = forged;

        var v = await VerifyAsync();

        Assert.Equal([$"altered {_ids[1]}", $"missing {_ids[6]}", "unsealed evt_forged"], v.Lines.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_whole_months_index_deleted_names_each_of_its_events_missing()
    {
        foreach (var key in _cluster.Documents.Keys.Where(k => k.Index.EndsWith("-2026.10.01", StringComparison.Ordinal)))
        {
            _cluster.Documents.TryRemove(key, out _);
        }

        var v = await VerifyAsync();

        Assert.Equal(_ids.Take(4).Select(id => $"missing {id}").Order(StringComparer.Ordinal), v.Lines.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_store_copy_in_the_digest_index_serves_the_same_digests_as_the_directory()
    {
        var copy = _services.GetRequiredService<IDigestStoreCopy>();
        var served = new List<Digest>();
        await foreach (var d in copy.ReadAsync("org_42", null, null, TestContext.Current.CancellationToken))
        {
            served.Add(d);
        }

        Assert.Equal([1L, 2L], served.Select(d => d.Seq));
        Assert.Equal(
            await File.ReadAllBytesAsync(Path.Combine(Digests, "org_42", "000000000001.json"), TestContext.Current.CancellationToken),
            DigestCodec.Encode(served[0]));
    }

    private ((string Index, string Id) Key, JsonObject Source) Event(string id)
    {
        var hit = _cluster.Documents.Single(d => d.Key.Index.StartsWith("audit-events-", StringComparison.Ordinal) && (string?)d.Value["event"]?["id"] == id);
        return (hit.Key, hit.Value);
    }

    private async Task<Verification> VerifyAsync()
    {
        using var key = new DigestSignatureCheck(await File.ReadAllTextAsync(Path.Combine(Digests, "public-key.pem"), TestContext.Current.CancellationToken));
        var lines = new List<string>();
        var verifier = new IntegrityVerifier(_services.GetRequiredService<IAuditStore>(), _services.GetRequiredService<RetentionPlanRegistry>(), TimeSpan.FromMinutes(1), TimeProvider.System);
        var (events, digests, problems) = await verifier.RunAsync(new DigestDirectory(Digests), key, null, null, null, p => lines.Add(p.Line), TestContext.Current.CancellationToken);
        return new Verification(lines, events, digests, problems);
    }
}
