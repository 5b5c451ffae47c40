using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Api.Auth;

/// <summary>
/// A configured key that presented a matching secret, or a viewer token minted by one
/// (<see cref="IsViewerToken"/>: then <see cref="Name"/> is the minting key's, <see cref="Org"/> the
/// token's one organisation, and <see cref="Scopes"/> at most the minting key's).
/// </summary>
internal sealed record ApiCaller(string Name, string Org, IReadOnlySet<string> Scopes, bool IsViewerToken = false)
{
    public const string AnyOrg = "*";

    public bool MayAccess(string orgId) => Org == AnyOrg || string.Equals(Org, orgId, StringComparison.Ordinal);

    public bool Has(string scope) => Scopes.Contains(scope);

    /// <summary>
    /// The rate-limit bucket: a key's own, and one per organisation for the viewer tokens it minted, so
    /// people browsing the page cannot starve the key that minted their tokens (nor the reverse).
    /// </summary>
    public string RatePartition => IsViewerToken ? $"{Name}\u0000viewer\u0000{Org}" : Name;
}

/// <summary>
/// Resolves <c>Authorization: Bearer &lt;key&gt;</c> against the configured SHA-256 hashes. Every
/// configured hash is compared in constant time, whichever matches, so timing tells nothing. A bearer
/// that is a viewer token (<see cref="ViewerTokenProtector"/>) is checked against the key that minted it.
/// </summary>
internal sealed class ApiKeyRegistry
{
    private readonly (byte[] Hash, ApiCaller Caller)[] _keys;
    private readonly Dictionary<string, (byte[] Hash, ApiCaller Caller)> _byName;
    private readonly ViewerTokenProtector _viewerTokens;

    public ApiKeyRegistry(IOptions<ApiOptions> options, ViewerTokenProtector viewerTokens)
    {
        _keys = [.. options.Value.Keys.Select(k => (
            Convert.FromHexString(k.Sha256),
            new ApiCaller(k.Name, k.Org, new HashSet<string>(k.Scopes, StringComparer.Ordinal))))];
        _byName = _keys.ToDictionary(k => k.Caller.Name, StringComparer.Ordinal);
        _viewerTokens = viewerTokens;
    }

    public ApiCaller? Authenticate(string? authorizationHeader)
    {
        if (!TryGetBearer(authorizationHeader, out var raw))
        {
            return null;
        }

        if (raw.StartsWith(ViewerTokenProtector.Prefix, StringComparison.Ordinal))
        {
            return AuthenticateViewerToken(raw);
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

    /// <summary>A viewer token for <paramref name="orgId"/> carrying the scopes of the (configured, non-token) caller.</summary>
    public (string Token, DateTimeOffset ExpiresAt) MintViewerToken(ApiCaller caller, string orgId)
    {
        if (caller.IsViewerToken || !_byName.TryGetValue(caller.Name, out var key))
        {
            throw new InvalidOperationException("Only a configured key mints viewer tokens.");
        }

        return _viewerTokens.Mint(orgId, caller.Name, caller.Scopes, key.Hash);
    }

    private ApiCaller? AuthenticateViewerToken(ReadOnlySpan<char> raw)
    {
        var claims = _viewerTokens.Read(raw, name => _byName.TryGetValue(name, out var k) ? k.Hash : null);
        if (claims is null || claims.OrgId == ApiCaller.AnyOrg || !_byName.TryGetValue(claims.KeyName, out var key) || !key.Caller.MayAccess(claims.OrgId))
        {
            return null;
        }

        // Never more than the minting key holds now, whatever it held when the token was minted.
        var scopes = new HashSet<string>(claims.Scopes.Where(key.Caller.Has), StringComparer.Ordinal);
        return new ApiCaller(claims.KeyName, claims.OrgId, scopes, IsViewerToken: true);
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
