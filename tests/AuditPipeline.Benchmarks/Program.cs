using AuditPipeline.Benchmarks;
using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/AuditPipeline.Benchmarks -- --filter '*'
// dotnet run -c Release --project tests/AuditPipeline.Benchmarks -- embedded-measure [events] [directory]
if (args is ["embedded-measure", .. var rest])
{
    return await EmbeddedStoreMeasurement.RunAsync(rest);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
