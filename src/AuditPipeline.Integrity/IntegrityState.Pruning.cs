using Microsoft.Data.Sqlite;

namespace AuditPipeline.Integrity;

/// <summary>What the state may forget once a digest is everywhere it has to be.</summary>
internal sealed partial class IntegrityState
{
    /// <summary>
    /// Forgets the entries of digests sealed before <paramref name="sealedBefore"/> that every sink has
    /// taken (none left in the outbox): the digests hold them now. What is kept: each chain's head, the
    /// pending entries, and the entries of recent digests, which <see cref="Known"/> needs to recognise a
    /// redelivery. An older redelivery is recorded again and sealed a second time, which verify accepts.
    /// Returns how many entries went.
    /// </summary>
    public long Prune(DateTimeOffset sealedBefore)
    {
        lock (_gate)
        {
            using var tx = _conn.BeginTransaction();
            var digests = new List<(string Org, long Seq, long First, long Last)>();
            using (var find = _conn.CreateCommand())
            {
                find.Transaction = tx;
                find.CommandText = """
                    SELECT s.org_id, s.seq, s.first_n, s.last_n FROM sealed s
                    WHERE s.sealed_ms < $cut AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.org_id = s.org_id AND o.seq = s.seq)
                    """;
                find.Parameters.AddWithValue("$cut", sealedBefore.ToUnixTimeMilliseconds());
                using var r = find.ExecuteReader();
                while (r.Read())
                {
                    digests.Add((r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3)));
                }
            }

            long pruned = 0;
            using var delete = _conn.CreateCommand();
            using var forget = _conn.CreateCommand();
            delete.Transaction = forget.Transaction = tx;
            // A digest's rows: in its range, of its organisation, marked with its number (adopted, or
            // sealed before marks existed) or unmarked and at most the organisation's mark (sealed
            // since; an unmarked row above the mark is pending, even inside an adopted digest's
            // range).
            delete.CommandText = "DELETE FROM entries WHERE n BETWEEN $a AND $b AND org_id = $o AND (seq = $s OR (seq IS NULL AND n <= $m))";
            forget.CommandText = "DELETE FROM sealed WHERE org_id = $o AND seq = $s";
            foreach (var (org, seq, first, last) in digests)
            {
                delete.Parameters.Clear();
                delete.Parameters.AddWithValue("$a", first);
                delete.Parameters.AddWithValue("$b", last);
                delete.Parameters.AddWithValue("$o", org);
                delete.Parameters.AddWithValue("$s", seq);
                delete.Parameters.AddWithValue("$m", MarkOf(org));
                pruned += delete.ExecuteNonQuery();
                forget.Parameters.Clear();
                forget.Parameters.AddWithValue("$o", org);
                forget.Parameters.AddWithValue("$s", seq);
                forget.ExecuteNonQuery();
            }

            tx.Commit();
            return pruned;
        }
    }

    private void NoteSealed(SqliteTransaction tx, string orgId, long seq, DateTimeOffset sealedAt, long firstRow, long lastRow)
    {
        using var cmd = _conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "INSERT OR REPLACE INTO sealed (org_id, seq, sealed_ms, first_n, last_n) VALUES ($o, $s, $t, $a, $b)";
        cmd.Parameters.AddWithValue("$o", orgId);
        cmd.Parameters.AddWithValue("$s", seq);
        cmd.Parameters.AddWithValue("$t", sealedAt.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$a", firstRow);
        cmd.Parameters.AddWithValue("$b", lastRow);
        cmd.ExecuteNonQuery();
    }
}
