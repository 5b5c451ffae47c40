using System.Globalization;
using AuditPipeline.Core.Integrity;
using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using Microsoft.Data.Sqlite;

namespace AuditPipeline.Integrity;

/// <summary>
/// Checks a store against a digest directory in constant memory: the digests' entries go into a
/// temporary on-disk SQLite table (one digest in memory at a time), the store's events are streamed
/// and each is looked up, and the entries never met are the missing ones. Only the given public key
/// and the given directory are trusted.
/// </summary>
internal sealed class IntegrityVerifier(IAuditStore store, RetentionPlanRegistry plans, TimeSpan sealInterval, TimeProvider time)
{
    private const int CommitEvery = 2000;

    /// <summary>Runs the check; each problem goes to <paramref name="report"/> as it is found.</summary>
    public async Task<(long Events, long Digests, long Problems)> RunAsync(
        DigestDirectory directory, DigestSignatureCheck key, string? orgFilter, DateTimeOffset? from, DateTimeOffset? to,
        Action<IntegrityProblem> report, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        long problems = 0;
        void Report(IntegrityProblem p)
        {
            problems++;
            report(p);
        }

        var tempPath = Path.Combine(Path.GetTempPath(), $"audit-verify-{Guid.NewGuid():N}.db");
        try
        {
            await using var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = tempPath, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString());
            await db.OpenAsync(cancellationToken);
            Exec(db, """
                PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -16384;
                CREATE TABLE entries (org_id TEXT NOT NULL, id TEXT NOT NULL, time_ms INTEGER NOT NULL, hash TEXT NOT NULL,
                                      trusted INTEGER NOT NULL, seen INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (org_id, id)) WITHOUT ROWID;
                """);

            var orgs = new SortedSet<string>(StringComparer.Ordinal);
            if (orgFilter is not null)
            {
                orgs.Add(orgFilter);
            }

            long digests = 0;
            var folders = orgFilter is null ? directory.Folders() : [DigestDirectory.FolderName(orgFilter)];
            foreach (var folder in folders)
            {
                digests += ReadChain(db, directory, folder, key, orgFilter, from, to, orgs, Report, cancellationToken);
            }

            long events = 0;
            foreach (var org in orgs)
            {
                events += await CheckEventsAsync(db, org, from, to, now, Report, cancellationToken);
            }

            ReportMissing(db, now, Report);
            return (events, digests, problems);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(tempPath);
        }
    }

    private static long ReadChain(
        SqliteConnection db, DigestDirectory directory, string folder, DigestSignatureCheck key, string? orgFilter,
        DateTimeOffset? from, DateTimeOffset? to, SortedSet<string> orgs, Action<IntegrityProblem> report, CancellationToken ct)
    {
        var files = directory.Files(folder);
        string? org = orgFilter;
        long counted = 0;
        long expected = 1;
        (long Seq, string Hash)? previous = null;
        using var tx = db.BeginTransaction();
        using var insert = db.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = "INSERT OR IGNORE INTO entries (org_id, id, time_ms, hash, trusted) VALUES ($o, $i, $t, $h, $tr)";
        var po = insert.Parameters.Add("$o", SqliteType.Text);
        var pi = insert.Parameters.Add("$i", SqliteType.Text);
        var pt = insert.Parameters.Add("$t", SqliteType.Integer);
        var ph = insert.Parameters.Add("$h", SqliteType.Text);
        var ptr = insert.Parameters.Add("$tr", SqliteType.Integer);

        foreach (var (seq, path) in files)
        {
            ct.ThrowIfCancellationRequested();
            Digest? d = null;
            string? problem;
            try
            {
                d = DigestCodec.Decode(File.ReadAllBytes(path));
                org ??= d.OrgId;
                problem = d.Seq != seq ? $"the file of seq {seq} holds seq {d.Seq}"
                    : !string.Equals(d.OrgId, org, StringComparison.Ordinal) || DigestDirectory.FolderName(d.OrgId) != folder ? $"the digest of {d.OrgId} is in the folder {folder}"
                    : key.Problem(d);
            }
            catch (Exception ex) when (ex is FormatException or IOException)
            {
                problem = ex.Message;
            }

            var orgName = org ?? folder;
            for (; expected < seq; expected++)
            {
                report(new IntegrityProblem(IntegrityProblem.Chain, orgName, null, expected, $"digest {expected} is missing"));
            }

            expected = seq + 1;
            if (d is not null && problem is null)
            {
                var linked = previous is { } p && p.Seq == seq - 1;
                if (seq == 1 && d.PreviousHash is not null)
                {
                    report(new IntegrityProblem(IntegrityProblem.Chain, orgName, null, seq, "the first digest names a previous one"));
                }
                else if (linked && !string.Equals(d.PreviousHash, previous!.Value.Hash, StringComparison.Ordinal))
                {
                    report(new IntegrityProblem(IntegrityProblem.Chain, orgName, null, seq, "previousHash is not the hash of the digest before it"));
                }

                previous = (seq, DigestCodec.ChainHash(d));
            }
            else
            {
                report(new IntegrityProblem(IntegrityProblem.Signature, orgName, null, seq, problem ?? "unreadable"));
                previous = null;
            }

            if (d is null || !Overlaps(d, from, to))
            {
                continue;
            }

            counted++;
            orgs.Add(d.OrgId);
            foreach (var e in d.Entries)
            {
                if ((from is { } f && e.Time < f) || (to is { } t && e.Time >= t))
                {
                    continue;
                }

                po.Value = d.OrgId;
                pi.Value = e.Id;
                pt.Value = e.Time.ToUnixTimeMilliseconds();
                ph.Value = e.Hash;

                // A digest that does not verify is already a problem of its own; its entries only keep
                // its events from being reported a second time as unsealed, never as missing or altered.
                ptr.Value = problem is null ? 1 : 0;
                insert.ExecuteNonQuery();
            }
        }

        tx.Commit();
        return counted;
    }

    private async Task<long> CheckEventsAsync(
        SqliteConnection db, string org, DateTimeOffset? from, DateTimeOffset? to, DateTimeOffset now, Action<IntegrityProblem> report, CancellationToken ct)
    {
        var unsealedBefore = now - (2 * sealInterval);
        long n = 0;
        var tx = db.BeginTransaction();
        try
        {
            using var find = db.CreateCommand();
            find.CommandText = "SELECT hash, trusted FROM entries WHERE org_id = $o AND id = $i";
            var fo = find.Parameters.Add("$o", SqliteType.Text);
            var fi = find.Parameters.Add("$i", SqliteType.Text);
            using var seen = db.CreateCommand();
            seen.CommandText = "UPDATE entries SET seen = 1 WHERE org_id = $o AND id = $i";
            var so = seen.Parameters.Add("$o", SqliteType.Text);
            var si = seen.Parameters.Add("$i", SqliteType.Text);
            fo.Value = so.Value = org;
            find.Transaction = seen.Transaction = tx;

            await foreach (var e in store.StreamAsync(new AuditQuery { OrgId = org, From = from, To = to }, ct))
            {
                n++;
                fi.Value = e.Id;
                string? hash = null;
                var trusted = false;
                using (var r = find.ExecuteReader())
                {
                    if (r.Read())
                    {
                        hash = r.GetString(0);
                        trusted = r.GetInt64(1) == 1;
                    }
                }

                if (hash is null)
                {
                    if (e.ReceivedAt < unsealedBefore)
                    {
                        report(new IntegrityProblem(IntegrityProblem.Unsealed, org, e.Id, null, "served, but in no digest"));
                    }
                }
                else
                {
                    si.Value = e.Id;
                    seen.ExecuteNonQuery();
                    if (trusted && !string.Equals(hash, EventHash.ComputeHex(e), StringComparison.Ordinal))
                    {
                        report(new IntegrityProblem(IntegrityProblem.Altered, org, e.Id, null, "served, but its hash differs from the digest's"));
                    }
                }

                if (n % CommitEvery == 0)
                {
                    tx.Commit();
                    tx.Dispose();
                    tx = db.BeginTransaction();
                    find.Transaction = seen.Transaction = tx;
                }
            }

            tx.Commit();
        }
        finally
        {
            tx.Dispose();
        }

        return n;
    }

    private void ReportMissing(SqliteConnection db, DateTimeOffset now, Action<IntegrityProblem> report)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT org_id, id, time_ms FROM entries WHERE seen = 0 AND trusted = 1 ORDER BY org_id, time_ms, id";
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            var org = r.GetString(0);
            var t = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(2));

            // Retention drops whole months past their class's age: those are gone legitimately.
            var month = new DateTimeOffset(t.Year, t.Month, 1, 0, 0, 0, TimeSpan.Zero);
            if (plans.ClassFor(org, t).IsMonthExpired(month, now))
            {
                continue;
            }

            report(new IntegrityProblem(IntegrityProblem.Missing, org, r.GetString(1), null,
                "a digest covers it (time " + t.ToString("O", CultureInfo.InvariantCulture) + "), the store does not serve it"));
        }
    }

    private static bool Overlaps(Digest d, DateTimeOffset? from, DateTimeOffset? to) =>
        (from is not { } f || d.EventsTo >= f) && (to is not { } t || d.EventsFrom < t);

    private static void Exec(SqliteConnection db, string sql)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }
}
