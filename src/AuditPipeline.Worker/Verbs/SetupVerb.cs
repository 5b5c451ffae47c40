using AuditPipeline.Elasticsearch;

using Serilog;

namespace AuditPipeline.Worker.Verbs;

/// <summary>
/// <c>setup [--print]</c>: creates or updates the Elasticsearch ILM policies, templates and roles
/// (idempotent), importing the Kibana dashboards when <c>Kibana:Url</c> is set. <c>--print</c> writes
/// them as JSON and touches no cluster.
/// </summary>
internal static class SetupVerb
{
    public static async Task<int> RunAsync(string[] args)
    {
        var print = args.Contains("--print");
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = [.. args.Where(a => a != "--print")],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSerilog((services, lc) => lc.ReadFrom.Configuration(builder.Configuration).WriteTo.Console(standardErrorFromLevel: Serilog.Events.LogEventLevel.Verbose));
        builder.Services.AddElasticsearchSetup(builder.Configuration);
        using var host = builder.Build();
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };
        return await host.Services.GetRequiredService<ElasticsearchSetup>().RunAsync(print, Console.Out, cts.Token);
    }
}
