using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/AuditPipeline.Benchmarks -- --filter '*'
// dotnet run -c Release --project tests/AuditPipeline.Benchmarks -- kafka [messages]   (see KafkaThroughput.cs)
if (args is ["kafka", ..])
{
    return await AuditPipeline.Benchmarks.KafkaThroughput.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
