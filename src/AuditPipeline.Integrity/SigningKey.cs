using System.Security.Cryptography;
using AuditPipeline.Core.Integrity;

namespace AuditPipeline.Integrity;

/// <summary>Loads <c>Integrity:SigningKeyPath</c>, or creates the generated key beside the store on first start (mode 0600).</summary>
internal static class SigningKey
{
    public static DigestSigner Load(IntegrityOptions options, out bool generated)
    {
        var path = options.ResolvedSigningKeyPath;
        generated = false;
        if (!File.Exists(path))
        {
            if (options.SigningKeyConfigured)
            {
                throw new InvalidOperationException($"{IntegrityOptions.SectionName}:SigningKeyPath '{path}' does not exist.");
            }

            AtomicFile.Write(path, System.Text.Encoding.ASCII.GetBytes(DigestKeys.NewPrivateKeyPem()), UnixFileMode.UserRead | UnixFileMode.UserWrite, overwrite: false);
            generated = true;
        }

        try
        {
            return new DigestSigner(DigestKeys.ReadPrivateKey(File.ReadAllText(path)));
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            throw new InvalidOperationException($"{IntegrityOptions.SectionName}:SigningKeyPath '{path}' is not a PEM PKCS#8 EC P-256 private key: {ex.Message}", ex);
        }
    }
}
