using AuditPipeline.Embedded.Storage;
using AuditPipeline.Testing;
using Microsoft.Data.Sqlite;

namespace AuditPipeline.Embedded.Tests.Storage;

/// <summary>
/// A pool clear elsewhere in the process (a retention drop, an archive, another store closing) while
/// a partition is being opened must not surface as ObjectDisposedException to a page, a stream or a batch.
/// </summary>
public sealed class PooledConnectionTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Opening_while_another_thread_clears_every_pool_never_hands_out_a_disposed_connection()
    {
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(_dir.Path, "pooled.db"),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
        }.ToString();
        using (var create = SqliteAuditStore.Open(connectionString))
        {
            using var cmd = create.CreateCommand();
            cmd.CommandText = "PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);";
            cmd.ExecuteNonQuery();
        }

        using var stop = new CancellationTokenSource();
        var clearing = Task.Run(
            () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    SqliteConnection.ClearAllPools();
                }
            },
            TestContext.Current.CancellationToken);
        var opens = 0;
        try
        {
            for (; opens < 20_000; opens++)
            {
                using var conn = SqliteAuditStore.Open(connectionString);
                using var cmd = conn.CreateCommand();
                cmd.CommandText = "SELECT x FROM t";
                Assert.Equal(1L, cmd.ExecuteScalar());
            }
        }
        finally
        {
            await stop.CancelAsync();
            await clearing;
        }

        Assert.Equal(20_000, opens);
    }
}
