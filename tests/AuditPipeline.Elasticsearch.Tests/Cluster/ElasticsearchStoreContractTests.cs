using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using AuditPipeline.Testing.StoreContract;

namespace AuditPipeline.Elasticsearch.Tests.Cluster;

/// <summary>
/// The shared store contract on a real Elasticsearch (Testcontainers, official image); skipped, with the
/// reason, where no Docker engine is available. Retention and archiving are done by the ILM policies
/// in the cluster (checked by the setup tests), not by the store, so those two contract cases are
/// replaced by a check that the store's own retention pass removes nothing.
/// </summary>
[Collection(ElasticsearchContractCollection.Name)]
public sealed class ElasticsearchStoreContractTests(ElasticsearchClusterFixture cluster) : AuditStoreContractTests
{
    protected override async Task<IAuditStore> CreateStoreAsync(RetentionPlanRegistry registry, RetentionOptions retention)
    {
        cluster.SkipIfUnavailable();
        await cluster.ResetAsync();
        return cluster.CreateStore(registry);
    }

    [Fact]
    public override async Task Retention_drops_expired_months_and_keeps_the_rest()
    {
        var store = await NewStoreAsync();
        var e = Testing.Some.Event(time: new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await store.AppendAsync([e], Ct);

        var report = await store.ApplyRetentionAsync(DateTimeOffset.UtcNow, Ct);

        Assert.Empty(report.Dropped);
        Assert.NotNull(await store.GetAsync(e.OrgId, e.Id, Ct));
    }

    [Fact]
    public override Task Archived_events_stay_readable_and_late_events_for_archived_months_are_kept() =>
        Retention_drops_expired_months_and_keeps_the_rest();
}

[CollectionDefinition(Name)]
public sealed class ElasticsearchContractCollection : ICollectionFixture<ElasticsearchClusterFixture>
{
    public const string Name = "elasticsearch-contract";
}
