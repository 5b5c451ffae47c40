using AuditPipeline.Benchmarks;
using BenchmarkDotNet.Running;

// BenchmarkDotNet classes:  dotnet run -c Release --project tests/AuditPipeline.Benchmarks -- --filter '*'
// Documented measurements (docs/PERFORMANCE.md):
//   api-load [--events 1000000] [--clients 16] [--requests 320] [--store memory|fixed|embedded] [--csv-only [--rounds N] [--no-fixed]] [--dir path]
//   embedded-measure [events] [directory]
//   kafka [messages]   (see KafkaThroughput.cs)
//   chaos [--messages 200000] [--kills 100] [--seed 1] [--static]   (docs/RELIABILITY.md, see KafkaChaos.cs)
//   kafka-restart [--rounds 3]   (how long a restarted worker waits for its partitions, docs/PERFORMANCE-kafka.md)
//   integrity [events] [rounds]   (see IntegrityMeasurement.cs)
//   verify-memory [events...]   (verify's peak heap at each size, see VerifyMemoryMeasurement.cs)
//   normalize-loop [--rounds 15]   (normalization next to a bare parse, interleaved; see NormalizationLoop.cs)
return args switch
{
    ["api-load", .. var rest] => await ApiLoad.RunAsync(rest),
    ["embedded-measure", .. var rest] => await EmbeddedStoreMeasurement.RunAsync(rest),
    ["embedded-append", .. var rest] => await EmbeddedAppendMeasurement.RunAsync(rest),
    ["kafka", .. var rest] => await KafkaThroughput.RunAsync(rest),
    ["chaos", .. var rest] => await KafkaChaos.RunAsync(rest),
    ["kafka-e2e", .. var rest] => await KafkaEndToEnd.RunAsync(rest),
    ["kafka-restart", .. var rest] => await KafkaRestart.RunAsync(rest),
    ["integrity", .. var rest] => await IntegrityMeasurement.RunAsync(rest),
    ["verify-memory", .. var rest] => await VerifyMemoryMeasurement.RunAsync(rest),
    ["normalize-loop", .. var rest] => await NormalizationLoop.RunAsync(rest),
    _ => Run(args),
};

static int Run(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(KafkaChaos).Assembly).Run(args);
    return 0;
}
