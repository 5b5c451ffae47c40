using System.Security.Cryptography;
using AuditPipeline.Core.Integrity;
using Microsoft.Data.Sqlite;

namespace AuditPipeline.Integrity.Tests;

public sealed class IntegrityStateTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 10, 0, 0, TimeSpan.Zero);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "integrity-state-tests", Guid.NewGuid().ToString("N"));

    [Theory]
    [InlineData(1)]
    [InlineData(127)]
    [InlineData(128)]
    [InlineData(129)]
    [InlineData(1000)]
    public void Every_recorded_entry_is_sealed_once_in_order_with_its_hash_whatever_the_batch_size(int count)
    {
        var entries = Entries("org_a", 0, count);
        using var signer = new DigestSigner(ECDsa.Create(ECCurve.NamedCurves.nistP256));
        using (var state = new IntegrityState(_dir))
        {
            state.Record(entries);
            Assert.Equal(entries.Select(e => (e.Org, e.Entry.Id)).ToHashSet(), state.Known([.. entries.Select(e => (e.Org, e.Entry.Id)), ("org_b", "evt_000000")]));
        }

        using var reopened = new IntegrityState(_dir);
        var digest = reopened.Seal("org_a", 10_000, T0, signer);

        Assert.NotNull(digest);
        Assert.Equal(entries.Select(e => e.Entry), digest.Entries);
        Assert.Null(reopened.Seal("org_a", 10_000, T0, signer));
    }

    [Fact]
    public void A_state_database_an_older_version_wrote_is_migrated_and_its_rows_are_known_and_sealed_with_their_hashes()
    {
        // Version 0: hex TEXT hashes, a unique index over (org_id, id), no key column.
        var old = Entries("org_a", 0, 2);
        Directory.CreateDirectory(_dir);
        using (var conn = new SqliteConnection($"Data Source={Path.Combine(_dir, IntegrityState.FileName)};Pooling=False"))
        {
            conn.Open();
            using var cmd = conn.CreateCommand();
            cmd.CommandText = """
                PRAGMA journal_mode = WAL;
                CREATE TABLE entries (n INTEGER PRIMARY KEY, org_id TEXT NOT NULL, id TEXT NOT NULL, time_ms INTEGER NOT NULL, hash TEXT NOT NULL, seq INTEGER);
                CREATE UNIQUE INDEX ux_entries ON entries (org_id, id);
                CREATE INDEX ix_pending ON entries (org_id, n) WHERE seq IS NULL;
                CREATE TABLE chains (org_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, hash TEXT NOT NULL);
                CREATE TABLE outbox (org_id TEXT NOT NULL, seq INTEGER NOT NULL, body BLOB NOT NULL, PRIMARY KEY (org_id, seq));
                """;
            cmd.ExecuteNonQuery();
            cmd.CommandText = "INSERT INTO entries (org_id, id, time_ms, hash) VALUES ($o, $i, $t, $h)";
            var o = cmd.Parameters.Add("$o", SqliteType.Text);
            var i = cmd.Parameters.Add("$i", SqliteType.Text);
            var t = cmd.Parameters.Add("$t", SqliteType.Integer);
            var h = cmd.Parameters.Add("$h", SqliteType.Text);
            foreach (var (org, e) in old)
            {
                (o.Value, i.Value, t.Value, h.Value) = (org, e.Id, e.Time.ToUnixTimeMilliseconds(), e.Hash);
                cmd.ExecuteNonQuery();
            }
        }

        using var signer = new DigestSigner(ECDsa.Create(ECCurve.NamedCurves.nistP256));
        using var reopened = new IntegrityState(_dir);
        Assert.Equal(2, reopened.Known([("org_a", old[0].Entry.Id), ("org_a", old[1].Entry.Id), ("org_a", "evt_new")]).Count);
        var fresh = Entries("org_a", 2, 2);
        reopened.Record(fresh);
        var digest = reopened.Seal("org_a", 10_000, T0, signer);

        Assert.Equal(old.Concat(fresh).Select(e => e.Entry), digest!.Entries);
    }

    [Fact]
    public void A_digest_adopted_from_the_directory_marks_the_pending_rows_it_covers_and_adds_the_rows_it_alone_knows()
    {
        using var signer = new DigestSigner(ECDsa.Create(ECCurve.NamedCurves.nistP256));
        var entries = Entries("org_a", 0, 4);
        Digest adopted;
        using (var elsewhere = new IntegrityState(Path.Combine(_dir, "elsewhere")))
        {
            elsewhere.Record(entries[..3]);
            adopted = elsewhere.Seal("org_a", 10_000, T0, signer)!;
        }

        using var state = new IntegrityState(_dir);
        state.Record([entries[1], entries[3]]);
        state.Adopt(adopted);

        // entries[1] was pending here and is now sealed by the adopted digest; entries[0] and [2] are known from it.
        Assert.Equal(3, state.Known([.. entries[..3].Select(e => (e.Org, e.Entry.Id))]).Count);
        var next = state.Seal("org_a", 10_000, T0, signer);
        Assert.Equal(2, next!.Seq);
        Assert.Equal([entries[3].Entry], next.Entries);
    }

    [Fact]
    public void Pruning_forgets_only_the_entries_of_digests_sealed_before_the_cut_that_every_sink_took()
    {
        using var signer = new DigestSigner(ECDsa.Create(ECCurve.NamedCurves.nistP256));
        using var state = new IntegrityState(_dir);
        var a = Entries("org_a", 0, 3);
        var b = Entries("org_b", 3, 2);
        var late = Entries("org_a", 5, 2);
        var pending = Entries("org_a", 7, 1);
        state.Record([a[0], b[0], a[1], b[1], a[2]]); // two organisations' rows interleaved
        var da = state.Seal("org_a", 10_000, T0, signer)!;
        var db = state.Seal("org_b", 10_000, T0, signer)!;
        state.Record(late);
        var dl = state.Seal("org_a", 10_000, T0.AddDays(1), signer)!;
        state.Record(pending);
        state.Delivered("org_a", da.Seq);
        state.Delivered("org_a", dl.Seq); // org_b's digest is still in the outbox

        var pruned = state.Prune(T0.AddHours(1));

        Assert.Equal(3, pruned);
        var all = a.Concat(b).Concat(late).Concat(pending).Select(e => (e.Org, e.Entry.Id)).ToList();
        Assert.Equal(b.Concat(late).Concat(pending).Select(e => (e.Org, e.Entry.Id)).ToHashSet(), state.Known(all));
        Assert.Equal(1, state.PendingCount());
        Assert.Equal(0, state.Prune(T0.AddHours(1)));
        Assert.Equal((dl.Seq, DigestCodec.ChainHash(dl)), state.Head("org_a"));
        Assert.Equal(db.Seq, state.Head("org_b")!.Value.Seq);
        Assert.Equal([pending[0].Entry], state.Seal("org_a", 10_000, T0.AddDays(2), signer)!.Entries);
    }

    [Fact]
    public void Digests_of_a_limited_size_take_each_pending_entry_of_their_organisation_once_in_order_and_leave_the_others_pending()
    {
        // Sealing marks a range of row numbers: rows of another organisation inside the range, and
        // rows recorded after the read, must stay pending.
        using var signer = new DigestSigner(ECDsa.Create(ECCurve.NamedCurves.nistP256));
        using var state = new IntegrityState(_dir);
        var a = Entries("org_a", 0, 7);
        var b = Entries("org_b", 7, 4);
        state.Record([a[0], b[0], a[1], b[1], a[2], b[2], a[3]]);

        var first = state.Seal("org_a", 3, T0, signer)!;
        state.Record([b[3], a[4], a[5], a[6]]);
        var second = state.Seal("org_a", 3, T0, signer)!;
        var third = state.Seal("org_a", 3, T0, signer)!;

        Assert.Equal(a[..3].Select(e => e.Entry), first.Entries);
        Assert.Equal(a[3..6].Select(e => e.Entry), second.Entries);
        Assert.Equal([a[6].Entry], third.Entries);
        Assert.Null(state.Seal("org_a", 3, T0, signer));
        Assert.Equal((first.Seq + 1, DigestCodec.ChainHash(first)), (second.Seq, second.PreviousHash!));
        Assert.Equal(DigestCodec.ChainHash(third), state.Head("org_a")!.Value.Hash);
        Assert.Equal(4, state.PendingCount());
        Assert.Equal(b.Select(e => e.Entry), state.Seal("org_b", 10, T0, signer)!.Entries);
        Assert.Equal(0, state.PendingCount());
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static (string Org, DigestEntry Entry)[] Entries(string org, int start, int count) =>
        [.. Enumerable.Range(start, count).Select(n => (org, new DigestEntry(
            $"evt_{n:D6}", T0.AddSeconds(n), Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(n))))))];
}
