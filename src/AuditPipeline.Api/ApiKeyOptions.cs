namespace AuditPipeline.Api;

/// <summary>One API key, stored only as the SHA-256 of the raw key.</summary>
public sealed class ApiKeyOptions
{
    public string Name { get; set; } = "";

    /// <summary>Lower-case hex SHA-256 of the raw key's UTF-8 bytes.</summary>
    public string Sha256 { get; set; } = "";

    /// <summary>An organisation id, or <c>*</c> for every organisation (the Outsprint app's service key).</summary>
    public string Org { get; set; } = "";

    /// <summary><c>audit:read</c> and/or <c>audit:export</c>.</summary>
    public List<string> Scopes { get; set; } = [];
}
