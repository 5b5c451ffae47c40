using AuditPipeline.Core.Integrity;

namespace AuditPipeline.Integrity;

/// <summary>What the state takes from a digest directory that is ahead of it.</summary>
internal sealed partial class IntegrityState
{
    /// <summary>
    /// Adopts a digest found in the directory beyond this state's chain head (the state was restored
    /// from an older copy, or lost): its entries count as sealed and the chain continues after it.
    /// </summary>
    public void Adopt(Digest digest)
    {
        lock (_gate)
        {
            using var tx = _conn.BeginTransaction();
            using (var mark = _conn.CreateCommand())
            using (var insert = _conn.CreateCommand())
            {
                // A pending row of the event is marked; an event the state never saw gets a sealed row.
                mark.Transaction = insert.Transaction = tx;
                mark.CommandText = "UPDATE entries SET seq = $s WHERE k = $k AND org_id = $o AND id = $i AND seq IS NULL";
                insert.CommandText = """
                    INSERT INTO entries (org_id, id, time_ms, hash, seq, k) SELECT $o, $i, $t, $h, $s, $k
                    WHERE NOT EXISTS (SELECT 1 FROM entries WHERE k = $k AND org_id = $o AND id = $i)
                    """;
                foreach (var e in digest.Entries)
                {
                    var key = IntegrityStateSchema.KeyOf(digest.OrgId, e.Id);
                    foreach (var cmd in new[] { mark, insert })
                    {
                        cmd.Parameters.Clear();
                        cmd.Parameters.AddWithValue("$s", digest.Seq);
                        cmd.Parameters.AddWithValue("$k", key);
                        cmd.Parameters.AddWithValue("$o", digest.OrgId);
                        cmd.Parameters.AddWithValue("$i", e.Id);
                    }

                    insert.Parameters.AddWithValue("$t", e.Time.ToUnixTimeMilliseconds());
                    insert.Parameters.AddWithValue("$h", HashBytes(e.Hash));
                    mark.ExecuteNonQuery();
                    insert.ExecuteNonQuery();
                }
            }

            using (var range = _conn.CreateCommand())
            {
                range.Transaction = tx;
                range.CommandText = "SELECT min(n), max(n) FROM entries WHERE org_id = $o AND seq = $s";
                range.Parameters.AddWithValue("$o", digest.OrgId);
                range.Parameters.AddWithValue("$s", digest.Seq);
                using var r = range.ExecuteReader();
                if (r.Read() && !r.IsDBNull(0))
                {
                    NoteSealed(tx, digest.OrgId, digest.Seq, digest.SealedAt, r.GetInt64(0), r.GetInt64(1));
                }
            }

            SetHead(tx, digest.OrgId, digest.Seq, DigestCodec.ChainHash(digest));
            tx.Commit();

            // SQLite numbered the rows it inserted; the next recorded row goes above them.
            NextRowNumberFromTables();
        }
    }
}
