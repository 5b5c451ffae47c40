using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using AuditPipeline.Testing.StoreContract;

namespace AuditPipeline.Elasticsearch.Tests.Cluster;

/// <summary>
/// The shared store contract on a real Elasticsearch (Testcontainers, official image); skipped, with the
/// reason, where no Docker engine is available. Retention and archiving are done by the ILM policies
/// in the cluster (checked by the setup tests), not by the store, so the two contract cases about them
/// are skipped with that reason and two cases below check what the store does instead.
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

    protected override string RetentionLeftTo =>
        "Elasticsearch drops and archives through its ILM policies (checked by the setup tests), not through the store.";

    [Fact]
    public async Task The_stores_own_retention_pass_drops_and_archives_nothing()
    {
        var store = await NewStoreAsync();
        var e = Testing.Some.Event(time: new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await store.AppendAsync([e], Ct);

        var report = await store.ApplyRetentionAsync(DateTimeOffset.UtcNow, Ct);

        Assert.Empty(report.Dropped);
        Assert.Empty(report.Archived);
        Assert.NotNull(await store.GetAsync(e.OrgId, e.Id, Ct));
    }

    [Fact]
    public async Task A_late_event_for_a_month_years_ago_is_stored_once_and_stays_readable_after_a_retention_pass()
    {
        var store = await NewStoreAsync();
        var late = Testing.Some.Event(time: new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero));

        var first = await store.AppendAsync([late], Ct);
        await store.ApplyRetentionAsync(DateTimeOffset.UtcNow, Ct);
        var again = await store.AppendAsync([late], Ct);

        Assert.Equal(AppendOutcome.Stored, first[0].Outcome);
        Assert.Equal(AppendOutcome.Duplicate, again[0].Outcome);
        Assert.NotNull(await store.GetAsync(late.OrgId, late.Id, Ct));
    }
}

[CollectionDefinition(Name)]
public sealed class ElasticsearchContractCollection : ICollectionFixture<ElasticsearchClusterFixture>
{
    public const string Name = "elasticsearch-contract";
}
