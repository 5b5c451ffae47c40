using System.Diagnostics;
using System.Globalization;
using AuditPipeline.EndToEnd.Tests.Support;
using AuditPipeline.Kafka.Tests.Support;

namespace AuditPipeline.Benchmarks;

/// <summary>
/// How long a restarted worker waits for its partitions on librdkafka's mock cluster (session timeout 6 s,
/// as in the tests; production's default is 45 s): stopped with SIGKILL or SIGTERM, as a dynamic member or a
/// static one (<c>Kafka:GroupInstanceId</c>). Measured from the new process's "subscribed" log line to its
/// "was assigned" line, so the process start-up is left out.
/// <code>
/// dotnet run -c Release --project tests/AuditPipeline.Benchmarks -- kafka-restart [--rounds 3]
/// </code>
/// </summary>
internal static class KafkaRestart
{
    public static async Task<int> RunAsync(string[] args)
    {
        var at = Array.IndexOf(args, "--rounds");
        var rounds = at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : 3;
        using var cluster = new MockKafkaCluster();
        Console.WriteLine("| stop | membership | wait for the assignment after restart (s), each round | median |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var kill in new[] { true, false })
        {
            foreach (var isStatic in new[] { false, true })
            {
                var waits = new List<double>();
                for (var r = 0; r < rounds; r++)
                {
                    waits.Add(await MeasureAsync(cluster, kill, isStatic));
                }

                var sorted = waits.Order().ToList();
                Console.WriteLine($"| {(kill ? "SIGKILL" : "SIGTERM")} | {(isStatic ? "static (Kafka:GroupInstanceId)" : "dynamic")} | {string.Join(", ", waits.Select(w => w.ToString("F1", CultureInfo.InvariantCulture)))} | {sorted[sorted.Count / 2].ToString("F1", CultureInfo.InvariantCulture)} |");
            }
        }

        return 0;
    }

    private static async Task<double> MeasureAsync(MockKafkaCluster cluster, bool kill, bool isStatic)
    {
        var suffix = MockKafkaCluster.UniqueName("restart");
        foreach (var k in new[] { "crm", "auth", "ai", "platform" })
        {
            cluster.CreateTopic($"{k}-{suffix}", 2);
        }

        cluster.CreateTopic($"dlq-{suffix}", 1);
        cluster.CreateTopic($"plans-{suffix}", 1);
        using var sandbox = new WorkerSandbox("restart");
        string[] args =
        [
            "--Inbox:Path=",
            $"--Kafka:BootstrapServers={cluster.BootstrapServers}",
            $"--Kafka:GroupId=group-{suffix}",
            .. new[] { "crm", "auth", "ai", "platform" }.Select(k => $"--Kafka:Topics:{k}={k}-{suffix}"),
            $"--Kafka:DeadLetterTopic=dlq-{suffix}",
            $"--Kafka:PlansTopic=plans-{suffix}",
            "--Kafka:Client:session.timeout.ms=6000",
            "--Kafka:Client:heartbeat.interval.ms=500",
            .. isStatic ? [$"--Kafka:GroupInstanceId=worker-{suffix}"] : Array.Empty<string>(),
        ];

        await using (var first = sandbox.Start(args))
        {
            await first.WaitForLogAsync("was assigned ", TimeSpan.FromSeconds(90));
            if (kill)
            {
                first.Kill();
            }
            else
            {
                first.Terminate();
            }

            await first.WaitForExitAsync(TimeSpan.FromSeconds(60));
        }

        await using var second = sandbox.Start(args);
        await second.WaitForLogAsync("subscribed to", TimeSpan.FromSeconds(90));
        var subscribed = Stopwatch.GetTimestamp();
        await second.WaitForLogAsync("was assigned ", TimeSpan.FromSeconds(120));
        return Stopwatch.GetElapsedTime(subscribed).TotalSeconds;
    }
}
