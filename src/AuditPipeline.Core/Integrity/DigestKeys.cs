using System.Security.Cryptography;
using System.Text;

namespace AuditPipeline.Core.Integrity;

/// <summary>
/// The ECDSA P-256 key that signs a chain, and its key id: the hex of the first 16 bytes of the
/// SHA-256 of its SubjectPublicKeyInfo (so anyone holding public-key.pem computes the same id).
/// </summary>
public sealed class DigestSigner : IDisposable
{
    private readonly ECDsa _key;

    public DigestSigner(ECDsa key)
    {
        if (key.KeySize != 256)
        {
            throw new ArgumentException("Digests are signed with an EC P-256 key.", nameof(key));
        }

        _key = key;
        KeyId = DigestKeys.KeyIdOf(key);
        PublicKeyPem = key.ExportSubjectPublicKeyInfoPem() + "\n";
    }

    public string KeyId { get; }

    public string PublicKeyPem { get; }

    /// <summary>The digest with <see cref="Digest.KeyId"/> and <see cref="Digest.Signature"/> set.</summary>
    public Digest Sign(Digest digest)
    {
        var d = digest with { KeyId = KeyId, Signature = null };
        var signature = _key.SignData(DigestCodec.SigningInput(d), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        return d with { Signature = Convert.ToBase64String(signature) };
    }

    public void Dispose() => _key.Dispose();
}

/// <summary>Checks digests against one trusted public key.</summary>
public sealed class DigestSignatureCheck : IDisposable
{
    private readonly ECDsa _key;

    public DigestSignatureCheck(string publicKeyPem)
    {
        _key = ECDsa.Create();
        _key.ImportFromPem(publicKeyPem);
        KeyId = DigestKeys.KeyIdOf(_key);
    }

    public string KeyId { get; }

    /// <summary>Null when the digest verifies, else the reason.</summary>
    public string? Problem(Digest d)
    {
        if (d.Version != Digest.CurrentVersion)
        {
            return $"version {d.Version} is not {Digest.CurrentVersion}";
        }

        if (!string.Equals(d.KeyId, KeyId, StringComparison.Ordinal))
        {
            return $"signed by key {d.KeyId}, not by the trusted key {KeyId}";
        }

        if (d.Signature is null)
        {
            return "has no signature";
        }

        byte[] signature;
        try
        {
            signature = Convert.FromBase64String(d.Signature);
        }
        catch (FormatException)
        {
            return "signature is not base64";
        }

        if (!_key.VerifyData(DigestCodec.SigningInput(d), signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence))
        {
            return "signature does not verify";
        }

        try
        {
            if (!string.Equals(Digest.MerkleRootOf(d.Entries), d.MerkleRoot, StringComparison.Ordinal))
            {
                return "merkle root does not match its entries";
            }
        }
        catch (FormatException)
        {
            return "an entry hash is not hex";
        }

        return null;
    }

    public void Dispose() => _key.Dispose();
}

public static class DigestKeys
{
    public static string KeyIdOf(ECDsa key) =>
        Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()).AsSpan(0, 16));

    /// <summary>Reads a PEM PKCS#8 (or SEC1) EC P-256 private key.</summary>
    public static ECDsa ReadPrivateKey(string pem)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
        }
        catch
        {
            key.Dispose();
            throw;
        }

        if (key.KeySize != 256)
        {
            key.Dispose();
            throw new CryptographicException($"the key is EC {key.KeySize} bits; digests need P-256");
        }

        return key;
    }

    public static string NewPrivateKeyPem()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new StringBuilder(key.ExportPkcs8PrivateKeyPem()).Append('\n').ToString();
    }
}
