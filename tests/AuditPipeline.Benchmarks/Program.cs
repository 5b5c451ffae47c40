using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/AuditPipeline.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
