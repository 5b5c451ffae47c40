using AuditPipeline.Worker.Verbs;
using Serilog;

// Two-stage logging: this bootstrap logger reports start-up failures; the host replaces it with one
// configured from appsettings (section "Serilog").
Log.Logger = new LoggerConfiguration()
    .WriteTo.Console(standardErrorFromLevel: Serilog.Events.LogEventLevel.Verbose)
    .CreateBootstrapLogger();

try
{
    return await VerbDispatcher.RunAsync(args);
}
catch (Exception ex)
{
    Log.Fatal(ex, "AuditPipeline stopped: {Reason}", ex.Message);
    return 1;
}
finally
{
    await Log.CloseAndFlushAsync();
}
