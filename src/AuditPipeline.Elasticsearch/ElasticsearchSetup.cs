using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using EsMethod = Elastic.Transport.HttpMethod;

namespace AuditPipeline.Elasticsearch;

/// <summary>
/// The <c>setup</c> verb: creates or updates the ILM policies, templates and roles (every request a
/// PUT, so running it again is harmless). With <c>print</c> it writes them as JSON and touches no cluster.
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
        var requests = _definitions.All();
        if (print)
        {
            await output.WriteLineAsync(Print(requests));
            return 0;
        }

        var connection = _connection();
        var failures = 0;
        foreach (var request in requests)
        {
            var body = Encoding.UTF8.GetBytes(request.Body.ToJsonString());
            var response = await connection.SendAsync(EsMethod.PUT, request.Path, body, cancellationToken);

            // A cluster that is still starting (no answer, 429, 5xx) gets a few more chances.
            for (var attempt = 1; response.Retryable && !SecurityDisabled(response) && attempt < SetupAttempts; attempt++)
            {
                LogSetupRetry(request.Path, response.Describe(), RetryDelay);
                await Task.Delay(RetryDelay, cancellationToken);
                response = await connection.SendAsync(EsMethod.PUT, request.Path, body, cancellationToken);
            }

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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Setup request {Path} got {Failure}; trying again in {Delay}")]
    private partial void LogSetupRetry(string path, string failure, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "Setup request {Path} failed: {Failure}")]
    private partial void LogSetupFailed(string path, string failure);
}
