using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Api.Auth;

/// <summary>What a valid viewer token says: the organisation, the minting key and the scopes it carried.</summary>
internal sealed record ViewerTokenClaims(string OrgId, string KeyName, IReadOnlySet<string> Scopes, DateTimeOffset ExpiresAt);

/// <summary>
/// Viewer tokens for the audit log page: stateless, signed with HMAC-SHA256, so they need no storage,
/// survive a restart and are accepted by every replica that shares the cursor key (the signing key is
/// derived from it with HKDF, so a cursor can never pass for a token). The MAC also covers the minting
/// key's configured hash: rotating or removing that key revokes every token it minted.
/// Layout (URL-safe base64 after the <c>avt_</c> prefix):
/// version(1) | expires unix seconds(8) | scopes bits(1) | org length(2) | org | key length(2) | key name | nonce(8) | mac(32).
/// </summary>
internal sealed class ViewerTokenProtector
{
    public const string Prefix = "avt_";
    private const byte Version = 1;
    private const int NonceBytes = 8;
    private const int MacBytes = 32;
    private const int MaxIdBytes = 512;
    private static readonly byte[] KeyInfo = "auditpipeline viewer-token v1"u8.ToArray();
    private readonly byte[] _key;
    private readonly TimeProvider _time;
    private readonly TimeSpan _lifetime;

    public ViewerTokenProtector(byte[] serverKey, TimeProvider time, IOptions<ViewerTokenOptions> options)
    {
        _key = HKDF.DeriveKey(HashAlgorithmName.SHA256, serverKey, 32, info: KeyInfo);
        _time = time;
        _lifetime = TimeSpan.FromMinutes(options.Value.ViewerTokenMinutes);
    }

    public (string Token, DateTimeOffset ExpiresAt) Mint(string orgId, string keyName, IReadOnlySet<string> scopes, ReadOnlySpan<byte> keyHash)
    {
        // Whole seconds, so the expiry the caller is told is exactly the one the token carries.
        var now = _time.GetUtcNow();
        var expires = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds()).Add(_lifetime);
        var org = Encoding.UTF8.GetBytes(orgId);
        var key = Encoding.UTF8.GetBytes(keyName);
        if (org.Length > MaxIdBytes || key.Length > MaxIdBytes)
        {
            throw new ArgumentException("The organisation id or key name is too long for a viewer token.");
        }

        var buffer = new byte[1 + 8 + 1 + 2 + org.Length + 2 + key.Length + NonceBytes + MacBytes];
        var span = buffer.AsSpan();
        span[0] = Version;
        BinaryPrimitives.WriteInt64BigEndian(span[1..], expires.ToUnixTimeSeconds());
        span[9] = ScopeBits(scopes);
        BinaryPrimitives.WriteUInt16BigEndian(span[10..], (ushort)org.Length);
        org.CopyTo(span[12..]);
        var at = 12 + org.Length;
        BinaryPrimitives.WriteUInt16BigEndian(span[at..], (ushort)key.Length);
        key.CopyTo(span[(at + 2)..]);
        at += 2 + key.Length;
        RandomNumberGenerator.Fill(span.Slice(at, NonceBytes));
        Sign(span[..^MacBytes], keyHash, span[^MacBytes..]);
        return (Prefix + Base64Url.EncodeToString(buffer), expires);
    }

    /// <summary>
    /// The claims of a token this server minted, still valid now, for a key whose current hash
    /// <paramref name="hashOfKey"/> returns; null for anything else (malformed, tampered, expired, revoked).
    /// </summary>
    public ViewerTokenClaims? Read(ReadOnlySpan<char> token, Func<string, byte[]?> hashOfKey)
    {
        if (!token.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var body = token[Prefix.Length..];
        if (body.Length > 4096 || !Base64Url.IsValid(body))
        {
            return null;
        }

        var buffer = new byte[Base64Url.GetMaxDecodedLength(body.Length)];
        if (Base64Url.DecodeFromChars(body, buffer, out var consumed, out var written) != System.Buffers.OperationStatus.Done || consumed != body.Length)
        {
            return null;
        }

        var span = buffer.AsSpan(0, written);

        // Base64 tolerates non-zero padding bits; only the one canonical spelling of a token is accepted.
        if (!body.SequenceEqual(Base64Url.EncodeToString(span)))
        {
            return null;
        }

        if (span.Length < 1 + 8 + 1 + 2 + 2 + NonceBytes + MacBytes || span[0] != Version)
        {
            return null;
        }

        var orgLength = BinaryPrimitives.ReadUInt16BigEndian(span[10..]);
        if (12 + orgLength + 2 > span.Length)
        {
            return null;
        }

        var keyLength = BinaryPrimitives.ReadUInt16BigEndian(span[(12 + orgLength)..]);
        if (span.Length != 12 + orgLength + 2 + keyLength + NonceBytes + MacBytes)
        {
            return null;
        }

        string orgId, keyName;
        try
        {
            var strict = new UTF8Encoding(false, true);
            orgId = strict.GetString(span.Slice(12, orgLength));
            keyName = strict.GetString(span.Slice(14 + orgLength, keyLength));
        }
        catch (DecoderFallbackException)
        {
            return null;
        }

        if (hashOfKey(keyName) is not { } keyHash)
        {
            return null;
        }

        Span<byte> mac = stackalloc byte[MacBytes];
        Sign(span[..^MacBytes], keyHash, mac);
        if (!CryptographicOperations.FixedTimeEquals(mac, span[^MacBytes..]))
        {
            return null;
        }

        var seconds = BinaryPrimitives.ReadInt64BigEndian(span[1..]);
        if (seconds <= _time.GetUtcNow().ToUnixTimeSeconds() || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            return null;
        }

        return new ViewerTokenClaims(orgId, keyName, Scopes(span[9]), DateTimeOffset.FromUnixTimeSeconds(seconds));
    }

    private void Sign(ReadOnlySpan<byte> payload, ReadOnlySpan<byte> keyHash, Span<byte> mac)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key);
        hmac.AppendData(payload);
        hmac.AppendData(keyHash);
        hmac.GetHashAndReset(mac);
    }

    private static byte ScopeBits(IReadOnlySet<string> scopes)
    {
        byte bits = 0;
        for (var i = 0; i < ApiScopes.All.Count; i++)
        {
            if (scopes.Contains(ApiScopes.All[i]))
            {
                bits |= (byte)(1 << i);
            }
        }

        return bits;
    }

    private static HashSet<string> Scopes(byte bits)
    {
        var scopes = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < ApiScopes.All.Count; i++)
        {
            if ((bits & (1 << i)) != 0)
            {
                scopes.Add(ApiScopes.All[i]);
            }
        }

        return scopes;
    }
}
