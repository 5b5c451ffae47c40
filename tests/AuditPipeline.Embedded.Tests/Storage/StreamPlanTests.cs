using AuditPipeline.Core.Storage;
using AuditPipeline.Embedded.Storage;
using AuditPipeline.Embedded.Tests.Support;
using AuditPipeline.Testing;

namespace AuditPipeline.Embedded.Tests.Storage;

/// <summary>
/// A streamed export's statements read each match's document themselves: still in index order (no sort),
/// and the document only behind the filter column, so a walk past rows that do not match reads none.
/// </summary>
public sealed class StreamPlanTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("")]
    [InlineData("ix_events_actor")]
    public async Task The_stream_statement_walks_the_index_in_order_and_reads_documents_only_of_matches(string index)
    {
        using var store = Stores.Open(_dir.Path);
        await store.AppendAsync([Some.Event()], Ct);
        var q = new AuditQuery { OrgId = "org_42", Users = ["usr_7"], Outcomes = ["failure"], After = new AuditPosition(Some.BaseTime, "evt_5") };
        var plan = ScanPlan.For(q, withDocs: true);

        using var conn = SqliteAuditStore.Open(store.Partitions.Single().Location.ConnectionString);
        using var cmd = plan.Command(conn, index.Length == 0 ? "ix_events_time" : index, index.Length == 0 ? null : "usr_7", index.Length == 0 ? -1 : 0);
        Assert.Contains("CASE WHEN coalesce((e.", cmd.CommandText, StringComparison.Ordinal);
        Assert.Contains("THEN e.doc END AS doc", cmd.CommandText, StringComparison.Ordinal);
        cmd.CommandText = "EXPLAIN QUERY PLAN " + cmd.CommandText;
        var details = new List<string>();
        using (var reader = cmd.ExecuteReader())
        {
            while (reader.Read())
            {
                details.Add(reader.GetString(3));
            }
        }

        var text = string.Join(" | ", details);
        Assert.DoesNotContain("TEMP B-TREE", text, StringComparison.Ordinal);
        Assert.Contains(index.Length == 0 ? "ix_events_time" : index, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_plan_with_free_text_leaves_documents_to_the_point_lookup()
    {
        using var store = Stores.Open(_dir.Path);
        await store.AppendAsync([Some.Event()], Ct);
        var plan = ScanPlan.For(new AuditQuery { OrgId = "org_42", Terms = ["ana"] }, withDocs: true);

        using var conn = SqliteAuditStore.Open(store.Partitions.Single().Location.ConnectionString);
        using var cmd = plan.Command(conn, "ix_events_time", null, -1);

        Assert.DoesNotContain("e.doc", cmd.CommandText, StringComparison.Ordinal);
    }
}
