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
            state.Record(entries[..Math.Min(3, count)]); // a redelivery: left as it is
        }

        using var reopened = new IntegrityState(_dir);
        var digest = reopened.Seal("org_a", 10_000, T0, signer);

        Assert.NotNull(digest);
        Assert.Equal(entries.Select(e => e.Entry), digest.Entries);
        Assert.Null(reopened.Seal("org_a", 10_000, T0, signer));
    }

    [Fact]
    public void Rows_an_older_version_wrote_with_hex_text_hashes_are_sealed_with_the_same_hashes()
    {
        var old = Entries("org_a", 0, 2);
        using (var state = new IntegrityState(_dir))
        {
        }

        using (var conn = new SqliteConnection($"Data Source={Path.Combine(_dir, IntegrityState.FileName)};Pooling=False"))
        {
            conn.Open();
            using var cmd = conn.CreateCommand();
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
        var fresh = Entries("org_a", 2, 2);
        reopened.Record(fresh);
        var digest = reopened.Seal("org_a", 10_000, T0, signer);

        Assert.Equal(old.Concat(fresh).Select(e => e.Entry), digest!.Entries);
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
