using System.Net.Http.Headers;
using System.Text;

namespace AuditPipeline.Elasticsearch;

/// <summary>
/// Optional part of setup: imports the Kibana saved objects (<c>dashboards/*.ndjson</c>) when
/// <c>Kibana:Url</c> is configured. Overwrites by id, so running it again is harmless.
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

internal sealed class KibanaDashboards(KibanaOptions options, HttpMessageHandler? handler = null)
{
    public bool Configured => !string.IsNullOrWhiteSpace(options.Url);

    /// <summary>Imports every NDJSON file; returns the number that failed.</summary>
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
        var failures = 0;
        foreach (var file in Directory.GetFiles(options.DashboardsPath, "*.ndjson").Order(StringComparer.Ordinal))
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUri, "/api/saved_objects/_import?overwrite=true"));
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

            var content = new MultipartFormDataContent();
            var fileContent = new ByteArrayContent(await File.ReadAllBytesAsync(file, cancellationToken));
            fileContent.Headers.ContentType = new MediaTypeHeaderValue("application/ndjson");
            content.Add(fileContent, "file", Path.GetFileName(file));
            request.Content = content;

            using var response = await client.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.IsSuccessStatusCode && body.Contains("\"success\":true", StringComparison.Ordinal))
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
}
