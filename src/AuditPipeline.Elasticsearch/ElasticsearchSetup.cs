using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using EsMethod = Elastic.Transport.HttpMethod;

namespace AuditPipeline.Elasticsearch;

/// <summary>
/// The <c>setup</c> verb: creates or updates the ILM policies, templates and roles (every request a
/// PUT, so running it again is harmless). With <c>print</c> it writes them as JSON and touches no cluster.
/// <para>
/// It says what is true: with <c>Elasticsearch:SnapshotRepository</c> set, the licence (searchable
/// snapshots need Enterprise or a trial) and the repository are checked before any policy is
/// written, and without them the archive tier falls back to cold nodes with a warning; an index
/// template is never written when the policy or a component template it names was refused.
/// </para>
/// </summary>
public sealed partial class ElasticsearchSetup
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private readonly ElasticsearchSetupDefinitions _definitions;
    private readonly Func<ElasticsearchConnection> _connection;
    private readonly KibanaDashboards? _dashboards;
    private readonly ILogger<ElasticsearchSetup> _logger;

    internal ElasticsearchSetup(
        ElasticsearchSetupDefinitions definitions,
        Func<ElasticsearchConnection> connection,
        ILogger<ElasticsearchSetup> logger,
        KibanaDashboards? dashboards = null)
    {
        _definitions = definitions;
        _connection = connection;
        _logger = logger;
        _dashboards = dashboards;
    }

    /// <summary>Returns the process exit code: 0 when everything is in place, 1 otherwise.</summary>
    public async Task<int> RunAsync(bool print, TextWriter output, CancellationToken cancellationToken)
    {
        if (print)
        {
            await output.WriteLineAsync(Print(_definitions.All()));
            return 0;
        }

        var connection = _connection();
        var definitions = _definitions;
        if (definitions.SnapshotRepository is { } repository &&
            await SearchableSnapshotsRefusedAsync(connection, repository, cancellationToken) is { } why)
        {
            LogSnapshotsUnavailable(repository, why);
            await output.WriteLineAsync($"WARNING: Elasticsearch:SnapshotRepository '{repository}' cannot be used ({why}); enterprise data is archived by migrating to cold nodes instead.");
            definitions = definitions.WithoutSnapshots();
        }

        var failures = 0;
        var refused = new HashSet<string>(StringComparer.Ordinal);
        foreach (var request in definitions.All())
        {
            if (request.DependsOn?.FirstOrDefault(refused.Contains) is { } missing)
            {
                failures++;
                refused.Add(request.Path);
                await output.WriteLineAsync($"{request.Method} {request.Path}: NOT SENT, it refers to {missing}, which was refused");
                continue;
            }

            var body = Encoding.UTF8.GetBytes(request.Body.ToJsonString());
            var response = await SendAsync(connection, EsMethod.PUT, request.Path, body, cancellationToken);

            if (response.Success)
            {
                await output.WriteLineAsync($"{request.Method} {request.Path}: ok");
                continue;
            }

            if (request.RequiresSecurity && SecurityDisabled(response))
            {
                await output.WriteLineAsync($"{request.Method} {request.Path}: skipped, security is not enabled on this cluster");
                continue;
            }

            failures++;
            refused.Add(request.Path);
            LogSetupFailed(request.Path, response.Describe());
            await output.WriteLineAsync($"{request.Method} {request.Path}: FAILED {response.Describe()}");
        }

        // Dashboards last: they reference the data view over the indices the templates shape.
        if (failures == 0 && _dashboards is { Configured: true })
        {
            failures += await _dashboards.ImportAsync(output, cancellationToken);
        }

        return failures == 0 ? 0 : 1;
    }

    /// <summary>A request, again while the cluster is still starting (no answer, 429, 5xx).</summary>
    private async Task<EsResponse> SendAsync(ElasticsearchConnection connection, EsMethod method, string path, byte[]? body, CancellationToken cancellationToken)
    {
        var response = await connection.SendAsync(method, path, body, cancellationToken);
        for (var attempt = 1; response.Retryable && !SecurityDisabled(response) && attempt < SetupAttempts; attempt++)
        {
            LogSetupRetry(path, response.Describe(), RetryDelay);
            await Task.Delay(RetryDelay, cancellationToken);
            response = await connection.SendAsync(method, path, body, cancellationToken);
        }

        return response;
    }

    /// <summary>Why searchable snapshots cannot be used here, or null when they can.</summary>
    private async Task<string?> SearchableSnapshotsRefusedAsync(ElasticsearchConnection connection, string repository, CancellationToken cancellationToken)
    {
        var license = await SendAsync(connection, EsMethod.GET, "/_license", null, cancellationToken);
        if (!license.Success)
        {
            return $"the licence could not be read: {license.Describe()}";
        }

        using (var doc = JsonDocument.Parse(license.Body))
        {
            var l = doc.RootElement.TryGetProperty("license", out var x) ? x : default;
            var type = l.ValueKind == JsonValueKind.Object && l.TryGetProperty("type", out var t) ? t.GetString() : null;
            var status = l.ValueKind == JsonValueKind.Object && l.TryGetProperty("status", out var s) ? s.GetString() : null;
            if (type is not ("enterprise" or "trial") || status != "active")
            {
                return $"searchable snapshots need an active Enterprise or trial licence, the cluster has {type ?? "none"} ({status ?? "no status"})";
            }
        }

        var repo = await SendAsync(connection, EsMethod.GET, $"/_snapshot/{Uri.EscapeDataString(repository)}", null, cancellationToken);
        return repo.Success ? null : $"the snapshot repository is not there: {repo.Describe()}";
    }

    internal static string Print(IReadOnlyList<SetupRequest> requests)
    {
        var array = new JsonArray();
        foreach (var r in requests)
        {
            array.Add(new JsonObject
            {
                ["method"] = r.Method,
                ["path"] = r.Path,
                ["body"] = r.Body.DeepClone(),
            });
        }

        return new JsonObject { ["requests"] = array }.ToJsonString(Indented);
    }

    internal const int SetupAttempts = 10;

    /// <summary>Between attempts at one setup request; tests shorten it.</summary>
    internal TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(3);

    private static bool SecurityDisabled(EsResponse response) =>
        Encoding.UTF8.GetString(response.Body).Contains("Security must be explicitly enabled", StringComparison.OrdinalIgnoreCase);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The setup request {Path} got {Failure}; trying again in {Delay}")]
    private partial void LogSetupRetry(string path, string failure, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The snapshot repository {Repository} cannot be used ({Reason}); archiving to cold nodes instead")]
    private partial void LogSnapshotsUnavailable(string repository, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "The setup request {Path} failed: {Failure}")]
    private partial void LogSetupFailed(string path, string failure);
}
