namespace AuditPipeline.Worker.Hosting;

/// <summary>
/// <code>
/// "Roles": "ingest,api",                 // or ["ingest","api"]; both by default
/// "Store": { "Provider": "Embedded" },   // Embedded | Elasticsearch; Elasticsearch when Elasticsearch:Url is set
/// "Api": { "Urls": "http://127.0.0.1:5080" }
/// </code>
/// </summary>
internal sealed record WorkerOptions(bool Ingest, bool Api, StoreProvider Store, string Urls)
{
    public const string DefaultUrls = "http://127.0.0.1:5080";

    /// <summary>Reads and checks the worker's own keys; every problem names its key.</summary>
    public static WorkerOptions From(IConfiguration configuration)
    {
        var problems = new List<string>();
        var roles = ReadRoles(configuration, problems);

        var providerText = configuration["Store:Provider"];
        var store = providerText switch
        {
            null or "" => string.IsNullOrWhiteSpace(configuration["Elasticsearch:Url"]) ? StoreProvider.Embedded : StoreProvider.Elasticsearch,
            _ when providerText.Equals("Embedded", StringComparison.OrdinalIgnoreCase) => StoreProvider.Embedded,
            _ when providerText.Equals("Elasticsearch", StringComparison.OrdinalIgnoreCase) => StoreProvider.Elasticsearch,
            _ => Problem(problems, $"Store:Provider must be Embedded or Elasticsearch (was '{providerText}')."),
        };

        var urls = configuration["Api:Urls"];
        if (string.IsNullOrWhiteSpace(urls))
        {
            urls = DefaultUrls;
        }

        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url.Replace("*", "localhost", StringComparison.Ordinal).Replace("+", "localhost", StringComparison.Ordinal), UriKind.Absolute, out var u) ||
                u.Scheme is not ("http" or "https"))
            {
                problems.Add($"Api:Urls must be a ';'-separated list of http(s) URLs (was '{urls}').");
                break;
            }
        }

        if (problems.Count > 0)
        {
            throw new InvalidConfigurationException(problems);
        }

        return new WorkerOptions(roles.Contains("ingest"), roles.Contains("api"), store, urls);
    }

    private static HashSet<string> ReadRoles(IConfiguration configuration, List<string> problems)
    {
        var section = configuration.GetSection("Roles");
        var values = section.Value is { } single
            ? single.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : section.GetChildren().Select(c => c.Value ?? "").ToArray();
        if (values.Length == 0)
        {
            return ["ingest", "api"];
        }

        var roles = new HashSet<string>(StringComparer.Ordinal);
        foreach (var v in values)
        {
            var role = v.Trim().ToLowerInvariant();
            if (role is "ingest" or "api")
            {
                roles.Add(role);
            }
            else
            {
                problems.Add($"Roles must be ingest, api or both (was '{v}').");
            }
        }

        return roles;
    }

    private static StoreProvider Problem(List<string> problems, string message)
    {
        problems.Add(message);
        return StoreProvider.Embedded;
    }
}

internal enum StoreProvider
{
    Embedded,
    Elasticsearch,
}

/// <summary>Start-up stops with every configuration problem, each naming its key.</summary>
internal sealed class InvalidConfigurationException(IReadOnlyList<string> problems)
    : Exception("Invalid configuration: " + string.Join(" ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
