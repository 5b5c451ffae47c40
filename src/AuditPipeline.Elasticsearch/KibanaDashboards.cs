using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AuditPipeline.Elasticsearch;

internal sealed class KibanaDashboards(KibanaOptions options, HttpMessageHandler? handler = null)
{
    public const string AnalystRole = "audit_analyst";

    public bool Configured => !string.IsNullOrWhiteSpace(options.Url);

    /// <summary>
    /// The analyst role: read the audit indices, and Discover and Dashboards read-only in every
    /// space. Kibana 8.18 and later name those features <c>discover_v2</c>/<c>dashboard_v2</c>; older
    /// ones <c>discover</c>/<c>dashboard</c>; the names are taken from <c>GET /api/features</c>.
    /// </summary>
    public static JsonObject AnalystRoleBody(IReadOnlyCollection<string> features) => new()
    {
        ["metadata"] = new JsonObject { ["managed_by"] = "AuditPipeline" },
        ["description"] = "Reads the audit log in Kibana: Discover and Dashboards, read-only.",
        ["elasticsearch"] = new JsonObject
        {
            ["cluster"] = new JsonArray(),
            ["indices"] = new JsonArray(new JsonObject
            {
                ["names"] = new JsonArray(AuditIndices.AllPattern),
                ["privileges"] = new JsonArray("read", "view_index_metadata"),
            }),
            ["run_as"] = new JsonArray(),
        },
        ["kibana"] = new JsonArray(new JsonObject
        {
            ["base"] = new JsonArray(),
            ["feature"] = new JsonObject
            {
                [Pick(features, "discover")] = new JsonArray("read"),
                [Pick(features, "dashboard")] = new JsonArray("read"),
            },
            ["spaces"] = new JsonArray("*"),
        }),
    };

    private static string Pick(IReadOnlyCollection<string> features, string feature) =>
        features.Contains(feature + "_v2") ? feature + "_v2" : feature;

    /// <summary>Creates the analyst role and imports every NDJSON file; returns the number of steps that failed.</summary>
    public async Task<int> ImportAsync(TextWriter output, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(options.Url, UriKind.Absolute, out var baseUri))
        {
            await output.WriteLineAsync($"Kibana:Url must be an absolute http or https address (was '{options.Url}').");
            return 1;
        }

        if (!Directory.Exists(options.DashboardsPath))
        {
            await output.WriteLineAsync($"Kibana:DashboardsPath names a folder that does not exist ('{options.DashboardsPath}').");
            return 1;
        }

        using var client = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        client.Timeout = TimeSpan.FromSeconds(60);
        var failures = await PutAnalystRoleAsync(client, baseUri, output, cancellationToken);
        foreach (var file in Directory.GetFiles(options.DashboardsPath, "*.ndjson").Order(StringComparer.Ordinal))
        {
            using var request = Request(HttpMethod.Post, new Uri(baseUri, "/api/saved_objects/_import?overwrite=true"));
            var content = new MultipartFormDataContent();
            var fileContent = new ByteArrayContent(await File.ReadAllBytesAsync(file, cancellationToken));
            fileContent.Headers.ContentType = new MediaTypeHeaderValue("application/ndjson");
            content.Add(fileContent, "file", Path.GetFileName(file));
            request.Content = content;

            using var response = await client.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);

            // Kibana answers 200 with "success":false when objects fail to import.
            if (response.IsSuccessStatusCode && Succeeded(body))
            {
                await output.WriteLineAsync($"Kibana import {Path.GetFileName(file)}: ok");
            }
            else
            {
                failures++;
                await output.WriteLineAsync($"Kibana import {Path.GetFileName(file)}: FAILED HTTP {(int)response.StatusCode}: {body[..Math.Min(body.Length, 600)]}");
            }
        }

        return failures;
    }

    private async Task<int> PutAnalystRoleAsync(HttpClient client, Uri baseUri, TextWriter output, CancellationToken cancellationToken)
    {
        var features = new List<string>();
        using (var request = Request(HttpMethod.Get, new Uri(baseUri, "/api/features")))
        using (var response = await client.SendAsync(request, cancellationToken))
        {
            if (response.IsSuccessStatusCode)
            {
                try
                {
                    var list = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken)) as JsonArray;
                    features.AddRange(list?.Select(f => (string?)f?["id"]).OfType<string>() ?? []);
                }
                catch (JsonException)
                {
                    // Fall back to the names every 8.x Kibana knows.
                }
            }
        }

        using var put = Request(HttpMethod.Put, new Uri(baseUri, $"/api/security/role/{AnalystRole}"));
        put.Content = new StringContent(AnalystRoleBody(features).ToJsonString(), Encoding.UTF8, "application/json");
        using var answer = await client.SendAsync(put, cancellationToken);
        if (answer.IsSuccessStatusCode)
        {
            await output.WriteLineAsync($"PUT Kibana /api/security/role/{AnalystRole}: ok");
            return 0;
        }

        var text = await answer.Content.ReadAsStringAsync(cancellationToken);
        await output.WriteLineAsync($"PUT Kibana /api/security/role/{AnalystRole}: FAILED HTTP {(int)answer.StatusCode}: {text[..Math.Min(text.Length, 600)]}");
        return 1;
    }

    private HttpRequestMessage Request(HttpMethod method, Uri uri)
    {
        var request = new HttpRequestMessage(method, uri);
        request.Headers.Add("kbn-xsrf", "true");
        if (!string.IsNullOrWhiteSpace(options.ApiKey))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("ApiKey", options.ApiKey);
        }
        else if (!string.IsNullOrWhiteSpace(options.Username))
        {
            var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{options.Username}:{options.Password}"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic);
        }

        return request;
    }

    private static bool Succeeded(string body)
    {
        try
        {
            return JsonNode.Parse(body) is JsonObject o && o["success"] is JsonValue v && v.TryGetValue<bool>(out var ok) && ok;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
