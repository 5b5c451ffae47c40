using System.Reflection;
using System.Text.Json;
using AuditPipeline.Core;
using AuditPipeline.Core.Diagnostics;
using AuditPipeline.Integrity;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Serilog;

namespace AuditPipeline.Worker.Hosting;

/// <summary>The composition of the <c>run</c> verb: one host, the roles configured, Kestrel always on (health and metrics).</summary>
internal static class WorkerHost
{
    /// <summary>The OpenTelemetry <c>service.name</c> every signal carries.</summary>
    public const string ServiceName = "audit-pipeline";

    /// <summary>The informational version of the build (<c>service.version</c>).</summary>
    public static string ServiceVersion { get; } =
        typeof(WorkerHost).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    public static WebApplication Build(string[] args, IReadOnlyDictionary<string, string?>? defaults = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        if (defaults is not null)
        {
            // Lowest precedence: appsettings, environment and switches all override the verb's defaults.
            builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = defaults });
        }

        var options = WorkerOptions.From(builder.Configuration);
        builder.Services.AddSingleton(options);
        builder.Services.AddSerilog((services, lc) => lc
            .ReadFrom.Configuration(builder.Configuration)
            .ReadFrom.Services(services)
            .Enrich.FromLogContext()
            .WriteTo.Console());
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        builder.Services.Configure<HostOptions>(h =>
        {
            h.ShutdownTimeout = builder.Configuration.GetValue("Worker:ShutdownTimeout", TimeSpan.FromSeconds(30));
            h.ServicesStartConcurrently = false;
            h.ServicesStopConcurrently = false;
        });

        builder.Services.AddHealthChecks();
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(ServiceName, serviceVersion: ServiceVersion, serviceInstanceId: Environment.MachineName))
            .WithMetrics(m => m.AddMeter(AuditMetrics.MeterName).AddPrometheusExporter());

        // Before the pipeline: the sealing service then stops after the pipeline has drained.
        builder.Services.AddIntegrity(builder.Configuration);
        builder.Services.AddAuditCore(builder.Configuration);
        builder.Services.AddRoleServices(builder.Configuration, options);

        var app = builder.Build();
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteHealth });
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = r => r.Tags.Contains("ready"), ResponseWriter = WriteHealth });
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapRoleEndpoints(options);
        return app;
    }

    private static Task WriteHealth(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var body = new Dictionary<string, object?>
        {
            ["status"] = report.Status.ToString(),
            ["checks"] = report.Entries.ToDictionary(e => e.Key, e => new Dictionary<string, string?>
            {
                ["status"] = e.Value.Status.ToString(),
                ["description"] = e.Value.Description,
            }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, WorkerJsonContext.Default.DictionaryStringObject));
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, object?>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, Dictionary<string, string?>>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string?>))]
internal sealed partial class WorkerJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
