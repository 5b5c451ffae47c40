using System.Buffers;

namespace AuditPipeline.Core.Integrity;

/// <summary>
/// Writes a digest's RFC 8785 canonical bytes straight from its members, in JCS member order, in one
/// pass: no <c>Utf8JsonWriter</c> document parsed back and canonicalized (which cost a seal ~3 µs per
/// entry, twice: once for the signing input, once for the body). The output must equal
/// <see cref="DigestCodec.CanonicalReference"/> byte for byte (a property test holds it to that);
/// what this writer cannot reproduce exactly (text that is not valid UTF-16, an integer beyond 2^53)
/// makes <see cref="TryWrite"/> answer false and the caller takes the reference path.
/// </summary>
internal static class DigestWriter
{
    /// <summary>About what one entry takes: the hash (64), a time (24), an id, the names and quotes.</summary>
    public const int BytesPerEntry = 140;

    /// <summary>Writes the canonical bytes; false (output partly written) where only the reference path is exact.</summary>
    public static bool TryWrite(IBufferWriter<byte> output, Digest d, bool withSignature)
    {
        // Members in UTF-16 code unit order: count, entries, eventsFrom, eventsTo, keyId, merkleRoot,
        // orgId, previousHash, sealedAt, seq, signature, version; an entry's: hash, id, time.
        if (!(JcsText.Raw(output, "{\"count\":"u8) && JcsText.Integer(output, d.Entries.Count)
            && JcsText.Raw(output, ",\"entries\":["u8)))
        {
            return false;
        }

        for (var i = 0; i < d.Entries.Count; i++)
        {
            var e = d.Entries[i];
            if (!(JcsText.Raw(output, i == 0 ? "{\"hash\":"u8 : ",{\"hash\":"u8) && JcsText.Quoted(output, e.Hash)
                && JcsText.Raw(output, ",\"id\":"u8) && JcsText.Quoted(output, e.Id)
                && JcsText.Raw(output, ",\"time\":"u8) && JcsText.Time(output, e.Time)
                && JcsText.Raw(output, "}"u8)))
            {
                return false;
            }
        }

        return JcsText.Raw(output, "],\"eventsFrom\":"u8) && JcsText.Time(output, d.EventsFrom)
            && JcsText.Raw(output, ",\"eventsTo\":"u8) && JcsText.Time(output, d.EventsTo)
            && JcsText.Raw(output, ",\"keyId\":"u8) && JcsText.Quoted(output, d.KeyId)
            && JcsText.Raw(output, ",\"merkleRoot\":"u8) && JcsText.Quoted(output, d.MerkleRoot)
            && JcsText.Raw(output, ",\"orgId\":"u8) && JcsText.Quoted(output, d.OrgId)
            && JcsText.Raw(output, ",\"previousHash\":"u8) && JcsText.Quoted(output, d.PreviousHash)
            && JcsText.Raw(output, ",\"sealedAt\":"u8) && JcsText.Time(output, d.SealedAt)
            && JcsText.Raw(output, ",\"seq\":"u8) && JcsText.Integer(output, d.Seq)
            && (!withSignature || d.Signature is null || (JcsText.Raw(output, ",\"signature\":"u8) && JcsText.Quoted(output, d.Signature)))
            && JcsText.Raw(output, ",\"version\":"u8) && JcsText.Integer(output, d.Version)
            && JcsText.Raw(output, "}"u8);
    }
}
