using System.Security.Cryptography;
using System.Text;

namespace AuditPipeline.Api.Tests.Support;

/// <summary>The API keys every test host is configured with (raw key → hash in configuration).</summary>
public static class TestKeys
{
    public const string Org = "org_42";
    public const string OtherOrg = "org_7";

    /// <summary>org_42, read and export.</summary>
    public const string Full = "raw-key-full-org42";

    /// <summary>org_42, read only.</summary>
    public const string Reader = "raw-key-reader-org42";

    /// <summary>org_42, export only.</summary>
    public const string Exporter = "raw-key-exporter-org42";

    /// <summary>Every organisation, read and export (the Outsprint app's service key).</summary>
    public const string Service = "raw-key-service-any";

    /// <summary>org_7, read and export.</summary>
    public const string Other = "raw-key-other-org7";

    public static IReadOnlyList<(string Name, string Raw, string Org, string[] Scopes)> All { get; } =
    [
        ("full", Full, Org, ["audit:read", "audit:export"]),
        ("reader", Reader, Org, ["audit:read"]),
        ("exporter", Exporter, Org, ["audit:export"]),
        ("service", Service, "*", ["audit:read", "audit:export"]),
        ("other", Other, OtherOrg, ["audit:read", "audit:export"]),
    ];

    public static string Hash(string raw) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(raw)));

    public static Dictionary<string, string?> Configuration()
    {
        var config = new Dictionary<string, string?>();
        for (var i = 0; i < All.Count; i++)
        {
            var (name, raw, org, scopes) = All[i];
            config[$"Api:Keys:{i}:Name"] = name;
            config[$"Api:Keys:{i}:Sha256"] = Hash(raw);
            config[$"Api:Keys:{i}:Org"] = org;
            for (var j = 0; j < scopes.Length; j++)
            {
                config[$"Api:Keys:{i}:Scopes:{j}"] = scopes[j];
            }
        }

        return config;
    }
}
