using System.Security.Cryptography;
using System.Text;
using AuditPipeline.Core.Integrity;
using AuditPipeline.Integrity.Tests.Support;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace AuditPipeline.Integrity.Tests;

/// <summary>
/// The one-pass digest writer against its definition (the document written with Utf8JsonWriter, parsed
/// and canonicalized): byte for byte, on digests whose every string is hostile, with and without a
/// previous hash and a signature; and what it must hand to the reference path instead of guessing.
/// </summary>
public sealed class DigestCodecPropertyTests
{
    private static readonly string[] Pieces =
    [
        "", "a", "evt_1", " ", "\u2028", "\u2029", "\u0000", "\u0001", "\u001f", "\u007f", "\b", "\f", "\n", "\r", "\t",
        "\"", "\\", "/", "<script>&'", "é", "€", "\ufeff", "\ufb33", "\U0001F600", "\U0010FFFF", "日本語", "\u00a0", "null", "}],{",
    ];

    [Property(MaxTest = 400)]
    public Property The_one_pass_bytes_equal_the_reference_bytes_for_every_generated_digest() =>
        Prop.ForAll(Gen.Choose(0, int.MaxValue).Select(seed => Generate(new Random(seed))).ToArbitrary(), d =>
            Same(d, withSignature: true) && Same(d, withSignature: false));

    [Fact]
    public void The_canonical_form_of_a_small_digest_is_the_sorted_one()
    {
        var d = Digest(2, "org_1", null, [new DigestEntry("evt_b", T(2), new string('b', 64)), new DigestEntry("evt_a", T(1), new string('a', 64))]) with { Signature = "c2ln" };
        var expected = "{\"count\":2,\"entries\":[{\"hash\":\"" + new string('b', 64) + "\",\"id\":\"evt_b\",\"time\":\"2026-11-01T00:00:02.000Z\"}," +
            "{\"hash\":\"" + new string('a', 64) + "\",\"id\":\"evt_a\",\"time\":\"2026-11-01T00:00:01.000Z\"}]," +
            "\"eventsFrom\":\"2026-11-01T00:00:01.000Z\",\"eventsTo\":\"2026-11-01T00:00:02.000Z\",\"keyId\":\"k1\",\"merkleRoot\":\"00\"," +
            "\"orgId\":\"org_1\",\"previousHash\":null,\"sealedAt\":\"2026-11-01T00:01:00.000Z\",\"seq\":2,\"signature\":\"c2ln\",\"version\":1}";

        Assert.Equal(expected, Encoding.UTF8.GetString(DigestCodec.Encode(d)));
        Assert.Equal(expected, Encoding.UTF8.GetString(DigestCodec.CanonicalReference(d, withSignature: true)));
        Assert.DoesNotContain("signature", Encoding.UTF8.GetString(DigestCodec.SigningInput(d)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(9_007_199_254_740_993L)] // beyond 2^53: JCS prints the nearest double, ...992
    [InlineData(long.MaxValue)]
    public void A_sequence_number_no_double_holds_is_left_to_the_reference_path(long seq)
    {
        var d = Digest(seq, "org_1", new string('c', 64), [new DigestEntry("evt_a", T(1), new string('a', 64))]);

        Assert.Null(DigestCodec.CanonicalFast(d, withSignature: true));
        Assert.Equal(DigestCodec.CanonicalReference(d, withSignature: true), DigestCodec.Encode(d));
    }

    [Fact]
    public void An_id_that_is_not_valid_UTF16_is_left_to_the_reference_path()
    {
        // A digest file someone edited can decode to a lone surrogate; whatever the reference path does
        // with it (here: refuse it) is what encoding does.
        var d = Digest(1, "org_1", null, [new DigestEntry("evt_\ud800", T(1), new string('a', 64))]);

        Assert.Null(DigestCodec.CanonicalFast(d, withSignature: true));
        var reference = Record.Exception(() => DigestCodec.CanonicalReference(d, withSignature: true));
        var encoded = Record.Exception(() => DigestCodec.Encode(d));
        Assert.Equal(reference?.GetType(), encoded?.GetType());
    }

    [Fact]
    public void A_signed_digest_still_verifies_and_an_edited_one_does_not()
    {
        using var signer = new DigestSigner(ECDsa.Create(ECCurve.NamedCurves.nistP256));
        var entries = Enumerable.Range(0, 1000).Select(i => new DigestEntry("evt_" + i, T(i), Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(i))))).ToList();
        var d = signer.Sign(Digest(1, "org_1", null, entries) with { MerkleRoot = Core.Integrity.Digest.MerkleRootOf(entries) });
        using var check = new DigestSignatureCheck(signer.PublicKeyPem);

        Assert.Null(check.Problem(DigestCodec.Decode(DigestCodec.Encode(d))));
        var edited = DigestCodec.Decode(DigestCodec.Encode(d)) with { Entries = [.. entries.Take(999), entries[999] with { Id = "evt_x" }] };
        Assert.NotNull(check.Problem(edited));
    }

    private static bool Same(Digest d, bool withSignature)
    {
        var fast = DigestCodec.CanonicalFast(d, withSignature);
        return fast is not null && fast.AsSpan().SequenceEqual(DigestCodec.CanonicalReference(d, withSignature));
    }

    private static Digest Generate(Random r)
    {
        var entries = Enumerable.Range(0, r.Next(6) == 0 ? 0 : r.Next(1, 40))
            .Select(_ => new DigestEntry(Text(r), HostileTime.Instant(r), r.Next(8) == 0 ? Text(r) : Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32))))
            .ToList();
        return Digest(r.NextInt64(1, 9_007_199_254_740_992), Text(r), r.Next(3) == 0 ? null : Text(r), entries) with
        {
            Version = r.Next(3) == 0 ? r.Next(int.MinValue, int.MaxValue) : 1,
            SealedAt = HostileTime.Instant(r),
            MerkleRoot = Text(r),
            KeyId = Text(r),
            Signature = r.Next(3) == 0 ? null : Text(r),
        };
    }

    private static Digest Digest(long seq, string org, string? previous, IReadOnlyList<DigestEntry> entries) => new()
    {
        OrgId = org,
        Seq = seq,
        PreviousHash = previous,
        SealedAt = T(60),
        Entries = entries,
        MerkleRoot = "00",
        KeyId = "k1",
    };

    private static DateTimeOffset T(int seconds) => new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero).AddSeconds(seconds);

    private static string Text(Random r)
    {
        if (r.Next(60) == 0)
        {
            return new string((char)r.Next(0x20, 0xD7FF), r.Next(1000, 9000)) + Pieces[r.Next(Pieces.Length)];
        }

        var sb = new StringBuilder();
        for (var i = r.Next(5); i > 0; i--)
        {
            sb.Append(Pieces[r.Next(Pieces.Length)]);
        }

        return sb.ToString();
    }
}
