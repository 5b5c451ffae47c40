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

    [Fact]
    public void A_seal_moves_its_organisations_mark_and_rewrites_no_row_and_a_reopened_state_seals_the_rest()
    {
        using var signer = new DigestSigner(ECDsa.Create(ECCurve.NamedCurves.nistP256));
        var a = Entries("org_a", 0, 5);
        var b = Entries("org_b", 5, 2);
        Digest first;
        using (var state = new IntegrityState(_dir))
        {
            state.Record([a[0], b[0], a[1], a[2], b[1], a[3], a[4]]);
            first = state.Seal("org_a", 3, T0, signer)!;
        }

        Assert.Equal(0L, Scalar("SELECT count(*) FROM entries WHERE seq IS NOT NULL"));
        Assert.Equal(4L, Scalar("SELECT sealed_n FROM marks WHERE org_id = 'org_a'")); // a[2] is the fourth row

        using var reopened = new IntegrityState(_dir);
        Assert.Equal(["org_a", "org_b"], reopened.OrgsWithPending());
        Assert.Equal(4, reopened.PendingCount());
        Assert.Equal(a[3..].Select(e => e.Entry), reopened.Seal("org_a", 10, T0, signer)!.Entries);
        Assert.Equal(b.Select(e => e.Entry), reopened.Seal("org_b", 10, T0, signer)!.Entries);
        Assert.Empty(reopened.OrgsWithPending());
        Assert.Equal(first.Seq + 1, reopened.Head("org_a")!.Value.Seq);
    }

    [Fact]
    public void Rows_recorded_after_everything_was_pruned_are_numbered_above_every_mark_and_sealed()
    {
        // SQLite would number the next rows of an emptied table from 1, below org_a's mark: they would
        // count as sealed and never be. Also after a restart, when only the marks remember the numbers.
        using var signer = new DigestSigner(ECDsa.Create(ECCurve.NamedCurves.nistP256));
        var later = Entries("org_a", 4, 2);
        var again = Entries("org_a", 6, 2);
        using (var state = new IntegrityState(_dir))
        {
            state.Record(Entries("org_a", 0, 4));
            var d = state.Seal("org_a", 10, T0, signer)!;
            state.Delivered("org_a", d.Seq);
            Assert.Equal(4, state.Prune(T0.AddDays(1)));

            state.Record(later);
            Assert.Equal(["org_a"], state.OrgsWithPending());
            var d2 = state.Seal("org_a", 10, T0.AddDays(1), signer)!;
            Assert.Equal(later.Select(e => e.Entry), d2.Entries);
            state.Delivered("org_a", d2.Seq);
            Assert.Equal(2, state.Prune(T0.AddDays(2)));
        }

        Assert.Equal(0L, Scalar("SELECT count(*) FROM entries"));
        using var reopened = new IntegrityState(_dir);
        reopened.Record(again);
        Assert.Equal(again.Select(e => e.Entry), reopened.Seal("org_a", 10, T0.AddDays(2), signer)!.Entries);
    }

    [Fact]
    public void Pruning_an_adopted_digest_keeps_a_pending_row_inside_its_range()
    {
        using var signer = new DigestSigner(ECDsa.Create(ECCurve.NamedCurves.nistP256));
        var e = Entries("org_a", 0, 4);
        Digest adopted;
        using (var elsewhere = new IntegrityState(Path.Combine(_dir, "elsewhere")))
        {
            elsewhere.Record([e[0], e[2]]);
            adopted = elsewhere.Seal("org_a", 10, T0, signer)!;
        }

        using var state = new IntegrityState(_dir);
        state.Record([e[0], e[1], e[2], e[3]]); // e[1] lies between two rows the adopted digest covers
        state.Adopt(adopted);
        state.Delivered("org_a", adopted.Seq);
        state.Prune(T0.AddDays(1));

        Assert.Equal([e[1].Entry, e[3].Entry], state.Seal("org_a", 10, T0, signer)!.Entries);
    }

    [Fact]
    public void A_version_1_state_keeps_its_marked_rows_sealed_and_seals_its_pending_rows()
    {
        var rows = Entries("org_a", 0, 4);
        using (var state = new IntegrityState(_dir))
        {
            state.Record(rows);
        }

        // As version 1 left it: the first two rows marked by digest 1 row by row, no marks table.
        Execute("UPDATE entries SET seq = 1 WHERE n <= 2; DROP TABLE marks; PRAGMA user_version = 1;");
        using var signer = new DigestSigner(ECDsa.Create(ECCurve.NamedCurves.nistP256));
        using var reopened = new IntegrityState(_dir);

        Assert.Equal(2, reopened.PendingCount());
        Assert.Equal(rows[2..].Select(e => e.Entry), reopened.Seal("org_a", 10, T0, signer)!.Entries);
        Assert.Equal(2L, Scalar("PRAGMA user_version"));
    }

    [Fact]
    public async Task Sealing_beside_a_recording_thread_takes_every_entry_exactly_once()
    {
        using var signer = new DigestSigner(ECDsa.Create(ECCurve.NamedCurves.nistP256));
        using var state = new IntegrityState(_dir);
        var all = Entries("org_a", 0, 6000).Concat(Entries("org_b", 6000, 2000)).OrderBy(e => e.Entry.Hash, StringComparer.Ordinal).ToArray(); // the two interleaved
        var recording = Task.Run(
            () =>
            {
                for (var i = 0; i < all.Length; i += 50)
                {
                    state.Record(all[i..Math.Min(all.Length, i + 50)]);
                }
            },
            TestContext.Current.CancellationToken);
        var sealedIds = new List<string>();
        while (true)
        {
            var done = recording.IsCompleted;
            foreach (var org in state.OrgsWithPending())
            {
                while (state.Seal(org, 700, T0, signer) is { } d)
                {
                    sealedIds.AddRange(d.Entries.Select(x => x.Id));
                }
            }

            if (done)
            {
                break;
            }

            await Task.Yield();
        }

        await recording;
        Assert.Equal(all.Select(e => e.Entry.Id).Order(StringComparer.Ordinal), sealedIds.Order(StringComparer.Ordinal));
        Assert.Equal(0, state.PendingCount());
    }

    private long Scalar(string sql)
    {
        using var conn = new SqliteConnection($"Data Source={Path.Combine(_dir, IntegrityState.FileName)};Pooling=False");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private void Execute(string sql)
    {
        using var conn = new SqliteConnection($"Data Source={Path.Combine(_dir, IntegrityState.FileName)};Pooling=False");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
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
