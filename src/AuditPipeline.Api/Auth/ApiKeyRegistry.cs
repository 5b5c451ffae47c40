using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Api.Auth;

/// <summary>A configured key that presented a matching secret.</summary>
internal sealed record ApiCaller(string Name, string Org, IReadOnlySet<string> Scopes)
{
    public const string AnyOrg = "*";

    public bool MayAccess(string orgId) => Org == AnyOrg || string.Equals(Org, orgId, StringComparison.Ordinal);

    public bool Has(string scope) => Scopes.Contains(scope);
}

/// <summary>
/// Resolves <c>Authorization: Bearer &lt;key&gt;</c> against the configured SHA-256 hashes. Every
/// configured hash is compared in constant time, whichever matches, so timing tells nothing.
/// </summary>
internal sealed class ApiKeyRegistry
{
    private readonly (byte[] Hash, ApiCaller Caller)[] _keys;

    public ApiKeyRegistry(IOptions<ApiOptions> options)
    {
        _keys = [.. options.Value.Keys.Select(k => (
            Convert.FromHexString(k.Sha256),
            new ApiCaller(k.Name, k.Org, new HashSet<string>(k.Scopes, StringComparer.Ordinal))))];
    }

    public ApiCaller? Authenticate(string? authorizationHeader)
    {
        if (!TryGetBearer(authorizationHeader, out var raw))
        {
            return null;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        var maxBytes = Encoding.UTF8.GetMaxByteCount(raw.Length);
        var buffer = maxBytes <= 1024 ? stackalloc byte[maxBytes] : new byte[maxBytes];
        var n = Encoding.UTF8.GetBytes(raw, buffer);
        SHA256.HashData(buffer[..n], hash);

        ApiCaller? found = null;
        foreach (var (expected, caller) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, expected))
            {
                found ??= caller;
            }
        }

        return found;
    }

    private static bool TryGetBearer(string? header, out ReadOnlySpan<char> key)
    {
        key = default;
        if (header is null)
        {
            return false;
        }

        var span = header.AsSpan().Trim();
        const string scheme = "Bearer ";
        if (span.Length <= scheme.Length || !span.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) || span.Length > 4096)
        {
            return false;
        }

        key = span[scheme.Length..].Trim();
        return key.Length > 0;
    }
}
