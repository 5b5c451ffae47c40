using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using AuditPipeline.Core.Events;

namespace AuditPipeline.Core.Integrity;

/// <summary>One covered event of a digest: its id, its time and its <see cref="EventHash"/> (hex).</summary>
public sealed record DigestEntry(string Id, DateTimeOffset Time, string Hash);

/// <summary>
/// A sealed digest of one organisation's chain. Its bytes are always the RFC 8785 canonical JSON of
/// <see cref="DigestCodec"/>; the signature covers the same document without its <c>signature</c>
/// member, and the next digest's <c>previousHash</c> is the SHA-256 of the whole signed document.
/// </summary>
public sealed record Digest
{
    public const int CurrentVersion = 1;

    public int Version { get; init; } = CurrentVersion;

    public required string OrgId { get; init; }

    public required long Seq { get; init; }

    /// <summary>Hex SHA-256 of the previous digest's canonical bytes; null for seq 1.</summary>
    public string? PreviousHash { get; init; }

    public required DateTimeOffset SealedAt { get; init; }

    public required IReadOnlyList<DigestEntry> Entries { get; init; }

    /// <summary>Hex RFC 6962 Merkle tree hash over the entries' event hashes, in order.</summary>
    public required string MerkleRoot { get; init; }

    public required string KeyId { get; init; }

    /// <summary>Base64 of the DER (RFC 3279) ECDSA P-256 / SHA-256 signature; null before signing.</summary>
    public string? Signature { get; init; }

    public int Count => Entries.Count;

    /// <summary>The earliest event time covered (for range selection).</summary>
    public DateTimeOffset EventsFrom => Entries.Count == 0 ? SealedAt : Entries.Min(e => e.Time);

    public DateTimeOffset EventsTo => Entries.Count == 0 ? SealedAt : Entries.Max(e => e.Time);

    /// <summary>
    /// The Merkle root over the entries' hashes. Hashes of 64 hex digits (every digest this worker
    /// seals) go into one buffer for <see cref="MerkleTree.RootOfHashes"/>; anything else (a digest file
    /// someone edited) takes the general path, which decodes or refuses it as it always did.
    /// </summary>
    public static string MerkleRootOf(IReadOnlyList<DigestEntry> entries)
    {
        const int hexLength = 2 * SHA256.HashSizeInBytes;
        var leaves = ArrayPool<byte>.Shared.Rent(Math.Max(1, entries.Count * SHA256.HashSizeInBytes));
        try
        {
            var ok = true;
            for (var i = 0; i < entries.Count && ok; i++)
            {
                ok = entries[i].Hash.Length == hexLength
                    && Convert.FromHexString(entries[i].Hash, leaves.AsSpan(i * SHA256.HashSizeInBytes, SHA256.HashSizeInBytes), out _, out _) == OperationStatus.Done;
            }

            return ok
                ? Convert.ToHexStringLower(MerkleTree.RootOfHashes(leaves.AsSpan(0, entries.Count * SHA256.HashSizeInBytes)))
                : Convert.ToHexStringLower(MerkleTree.Root([.. entries.Select(e => Convert.FromHexString(e.Hash))]));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(leaves);
        }
    }
}

/// <summary>Writes and reads the one digest format (documented in docs/INTEGRITY.md).</summary>
public static class DigestCodec
{
    /// <summary>The canonical bytes of the signed document (what files, sinks and the chain hash hold).</summary>
    public static byte[] Encode(Digest d) => Canonical(d, withSignature: true);

    /// <summary>The canonical bytes the signature is over: the document without <c>signature</c>.</summary>
    public static byte[] SigningInput(Digest d) => Canonical(d, withSignature: false);

    /// <summary>Hex SHA-256 of the digest's canonical bytes: the next digest's <c>previousHash</c>.</summary>
    public static string ChainHash(Digest d) => Convert.ToHexStringLower(SHA256.HashData(Encode(d)));

    /// <summary>Reads a digest document; throws <see cref="FormatException"/> naming what is wrong.</summary>
    public static Digest Decode(ReadOnlySpan<byte> utf8)
    {
        try
        {
            using var doc = JsonDocument.Parse(utf8.ToArray());
            var r = doc.RootElement;
            if (r.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("a digest is a JSON object");
            }

            var entries = new List<DigestEntry>();
            foreach (var e in Get(r, "entries", JsonValueKind.Array).EnumerateArray())
            {
                entries.Add(new DigestEntry(
                    Get(e, "id", JsonValueKind.String).GetString()!,
                    ParseTime(Get(e, "time", JsonValueKind.String).GetString()!),
                    Get(e, "hash", JsonValueKind.String).GetString()!));
            }

            var count = Get(r, "count", JsonValueKind.Number).GetInt64();
            if (count != entries.Count)
            {
                throw new FormatException($"count is {count} but {entries.Count} entries are listed");
            }

            var previous = r.TryGetProperty("previousHash", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
            var signature = r.TryGetProperty("signature", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
            return new Digest
            {
                Version = Get(r, "version", JsonValueKind.Number).GetInt32(),
                OrgId = Get(r, "orgId", JsonValueKind.String).GetString()!,
                Seq = Get(r, "seq", JsonValueKind.Number).GetInt64(),
                PreviousHash = previous,
                SealedAt = ParseTime(Get(r, "sealedAt", JsonValueKind.String).GetString()!),
                Entries = entries,
                MerkleRoot = Get(r, "merkleRoot", JsonValueKind.String).GetString()!,
                KeyId = Get(r, "keyId", JsonValueKind.String).GetString()!,
                Signature = signature,
            };
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new FormatException($"not a readable digest: {ex.Message}", ex);
        }
    }

    /// <summary>The one-pass writer's bytes, or null where only the reference path is exact.</summary>
    public static byte[]? CanonicalFast(Digest d, bool withSignature)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + (d.Entries.Count * DigestWriter.BytesPerEntry));
        return DigestWriter.TryWrite(buffer, d, withSignature) ? buffer.WrittenSpan.ToArray() : null;
    }

    private static byte[] Canonical(Digest d, bool withSignature) =>
        CanonicalFast(d, withSignature) ?? CanonicalReference(d, withSignature);

    /// <summary>
    /// The canonical bytes by definition: the document written with <c>Utf8JsonWriter</c>, parsed and
    /// canonicalized. Slow (a seal paid ~3 µs per entry for it); kept as the reference the one-pass
    /// <see cref="DigestWriter"/> is tested against and taken where that writer cannot be exact.
    /// </summary>
    public static byte[] CanonicalReference(Digest d, bool withSignature)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + (d.Entries.Count * 140));
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("version", d.Version);
            w.WriteString("orgId", d.OrgId);
            w.WriteNumber("seq", d.Seq);
            if (d.PreviousHash is null)
            {
                w.WriteNull("previousHash");
            }
            else
            {
                w.WriteString("previousHash", d.PreviousHash);
            }

            w.WriteString("sealedAt", AuditJson.FormatTime(d.SealedAt));
            w.WriteNumber("count", d.Entries.Count);
            w.WriteString("eventsFrom", AuditJson.FormatTime(d.EventsFrom));
            w.WriteString("eventsTo", AuditJson.FormatTime(d.EventsTo));
            w.WriteString("merkleRoot", d.MerkleRoot);
            w.WriteStartArray("entries");
            foreach (var e in d.Entries)
            {
                w.WriteStartObject();
                w.WriteString("id", e.Id);
                w.WriteString("time", AuditJson.FormatTime(e.Time));
                w.WriteString("hash", e.Hash);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteString("keyId", d.KeyId);
            if (withSignature && d.Signature is not null)
            {
                w.WriteString("signature", d.Signature);
            }

            w.WriteEndObject();
        }

        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return Jcs.Canonicalize(doc.RootElement);
    }

    private static JsonElement Get(JsonElement o, string name, JsonValueKind kind) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == kind
            ? v
            : throw new FormatException($"'{name}' is missing or not a {kind.ToString().ToLowerInvariant()}");

    private static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
