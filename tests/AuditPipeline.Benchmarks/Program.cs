using AuditPipeline.Benchmarks;
using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/AuditPipeline.Benchmarks -- --filter '*'
// dotnet run -c Release --project tests/AuditPipeline.Benchmarks -- api-load [--events 1000000] [--clients 16] [--requests 320] [--store memory|fixed]
if (args is ["api-load", ..])
{
    return await ApiLoad.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
