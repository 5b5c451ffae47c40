namespace AuditPipeline.Elasticsearch;

/// <summary>
/// Optional part of setup when <c>Kibana:Url</c> is configured: the analyst role (through Kibana's
/// role API, since Kibana feature privileges live there) and the Kibana saved objects
/// (<c>dashboards/*.ndjson</c>). Both overwrite by name, so running them again is harmless.
/// <code>
/// "Kibana": { "Url": "http://kibana:5601", "DashboardsPath": "dashboards", "Username": "elastic", "Password": "...", "ApiKey": null }
/// </code>
/// Without its own credentials it uses the Elasticsearch ones.
/// </summary>
public sealed class KibanaOptions
{
    public const string SectionName = "Kibana";

    public string? Url { get; set; }

    public string DashboardsPath { get; set; } = "dashboards";

    public string? Username { get; set; }

    public string? Password { get; set; }

    public string? ApiKey { get; set; }
}
