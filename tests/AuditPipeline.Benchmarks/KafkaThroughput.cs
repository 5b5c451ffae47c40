using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using AuditPipeline.Core;
using AuditPipeline.Core.Diagnostics;
using AuditPipeline.Core.Ingest;
using AuditPipeline.Core.Normalization;
using AuditPipeline.Core.Storage;
using AuditPipeline.Kafka;
using AuditPipeline.Kafka.Source;
using AuditPipeline.Kafka.Tests.Support;
using AuditPipeline.Testing;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AuditPipeline.Benchmarks;

/// <summary>
/// End-to-end throughput of the Kafka source: librdkafka's mock cluster → consumer group → ingest
/// pipeline (real normalizer) → store, next to a bare consumer reading the same topics in the same run,
/// and the memory held while the store is stalled. A console mode rather than BenchmarkDotNet: one run
/// moves hundreds of thousands of records through a cluster that lives for the whole process.
/// <code>
/// dotnet run -c Release --project tests/AuditPipeline.Benchmarks -- kafka [messages=200000] [malformedEvery=100] [rounds=3]
/// </code>
/// The store is the in-memory reference store; to measure a real one, change <see cref="CreateStore"/>.
/// </summary>
internal static class KafkaThroughput
{
    private const int PartitionsPerTopic = 16;

    /// <summary>The store the pipeline rounds write to: <c>--store memory</c> (default) or <c>--store embedded</c> (SQLite in a temp directory).</summary>
    private static string _pipelineStore = "memory";

    public static async Task<int> RunAsync(string[] args)
    {
        var storeAt = Array.IndexOf(args, "--store");
        if (storeAt >= 0 && storeAt + 1 < args.Length)
        {
            _pipelineStore = args[storeAt + 1];
            args = [.. args[..storeAt], .. args[(storeAt + 2)..]];
        }

        Console.WriteLine($"Pipeline rounds write to the {_pipelineStore} store.");
        var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200_000;
        var malformedEvery = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100;
        var rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;
        using var cluster = new MockKafkaCluster();
        var topics = SourceKinds.All.ToDictionary(k => k, k => MockKafkaCluster.UniqueName(k.Name()));
        foreach (var topic in topics.Values)
        {
            cluster.CreateTopic(topic, PartitionsPerTopic);
        }

        var dlq = MockKafkaCluster.UniqueName("dlq");
        var plans = MockKafkaCluster.UniqueName("plans");
        cluster.CreateTopic(dlq, 4);
        cluster.CreateTopic(plans, 1);

        Console.WriteLine($"Producing {count:N0} messages (all four kinds, one in {malformedEvery} malformed) to {topics.Count}×{PartitionsPerTopic} partitions...");
        var messages = Messages(count, malformedEvery).ToList();
        var bytes = messages.Sum(m => (long)m.Value.Length);
        cluster.ProduceMany(messages.Select(m => (topics[m.Kind], (byte[]?)Encoding.UTF8.GetBytes(m.Org), (byte[]?)m.Value, (int?)null)), TimeSpan.FromMinutes(5));
        Console.WriteLine($"  {bytes / 1024.0 / 1024.0:F1} MiB of values, {bytes / count} bytes on average");

        var normalizer = new AuditNormalizer();
        var clock = Stopwatch.StartNew();
        foreach (var m in messages)
        {
            normalizer.Normalize(m.Kind, m.Value, DateTimeOffset.UtcNow);
        }

        Console.WriteLine($"Normalizer alone:          {count / clock.Elapsed.TotalSeconds,10:N0} msg/s (one thread, no Kafka)");

        // Interleaved rounds (each with fresh consumer groups) so that a busy neighbour on a shared machine
        // hurts both sides alike; the medians are what to compare.
        var bareRates = new List<double>();
        var pipelineRates = new List<double>();
        var sourceRates = new List<double>();
        for (var round = 1; round <= rounds; round++)
        {
            var bare = BareConsumer(cluster, topics.Values, count);
            bareRates.Add(count / bare.TotalSeconds);
            Console.WriteLine($"Round {round}: bare consumer   {count / bare.TotalSeconds,10:N0} msg/s ({bare.TotalSeconds:F2} s from the assignment)");

            var sourceOnly = SourceOnly(cluster, topics, dlq, count);
            sourceRates.Add(count / sourceOnly.TotalSeconds);
            Console.WriteLine($"Round {round}: source, no-op   {count / sourceOnly.TotalSeconds,10:N0} msg/s ({sourceOnly.TotalSeconds:F2} s; the Kafka source alone, every message completed as it is written)");

            var (pipeline, stored, dead) = await PipelineAsync(cluster, topics, dlq, plans, count);
            pipelineRates.Add(count / pipeline.TotalSeconds);
            Console.WriteLine($"Round {round}: pipeline+store  {count / pipeline.TotalSeconds,10:N0} msg/s ({pipeline.TotalSeconds:F2} s from the assignment; {stored:N0} stored, {dead:N0} dead-lettered)");
        }

        var bareMedian = Median(bareRates);
        var pipelineMedian = Median(pipelineRates);
        Console.WriteLine($"Median bare consumer:      {bareMedian,10:N0} msg/s");
        Console.WriteLine($"Median pipeline + store:   {pipelineMedian,10:N0} msg/s");
        Console.WriteLine($"Ratio pipeline/bare:       {pipelineMedian / bareMedian,10:F2}");

        Console.WriteLine($"Median source, no-op:      {Median(sourceRates),10:N0} msg/s");

        await StalledAsync(cluster, topics, dlq, plans, count);
        return 0;
    }

    /// <summary>The store under measurement.</summary>
    private static InMemoryAuditStore CreateStore() => new();

    private static DisposableStore PipelineStore(string directory)
    {
        if (_pipelineStore == "memory")
        {
            return new DisposableStore(CreateStore(), null);
        }

        var retention = Microsoft.Extensions.Options.Options.Create(new AuditPipeline.Core.Retention.RetentionOptions());
        var sqlite = new AuditPipeline.Embedded.Storage.SqliteAuditStore(
            Microsoft.Extensions.Options.Options.Create(new AuditPipeline.Embedded.EmbeddedStoreOptions { Path = directory }),
            new AuditPipeline.Core.Retention.RetentionPlanRegistry(retention),
            retention);
        return new DisposableStore(sqlite, () =>
        {
            sqlite.Dispose();
            Directory.Delete(directory, recursive: true);
        });
    }

    private sealed class DisposableStore(IAuditStore inner, Action? dispose) : IDisposable
    {
        public IAuditStore Store { get; } = inner;

        public void Dispose() => dispose?.Invoke();
    }

    private static IEnumerable<(SourceKind Kind, string Org, byte[] Value)> Messages(int count, int malformedEvery)
    {
        var run = Guid.NewGuid().ToString("N")[..6];
        var t0 = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < count; i++)
        {
            var kind = SourceKinds.All[i % 4];
            var org = "org_" + (i % 200).ToString(CultureInfo.InvariantCulture);
            var id = $"{run}_{i}";
            var prefix = kind switch { SourceKind.Crm => "evt_", SourceKind.Auth => "au_", SourceKind.Ai => "ai_", _ => "pl_" };
            var json = (malformedEvery > 0 && i % malformedEvery == malformedEvery - 1)
                ? "{\"not\":\"an audit message\"}"
                : SamplePayloads.For(kind, prefix + id, org, t0.AddSeconds(i));
            yield return (kind, org, Encoding.UTF8.GetBytes(json));
        }
    }

    /// <summary>A plain consumer group member reading every record once, touching each value.</summary>
    internal static TimeSpan BareConsumer(MockKafkaCluster cluster, IEnumerable<string> topics, int count)
    {
        Stopwatch? assigned = null;
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            GroupId = MockKafkaCluster.UniqueName("bare"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = true,
            SessionTimeoutMs = 6000,
        }).SetLogHandler((_, _) => { }).SetPartitionsAssignedHandler((_, _) => assigned ??= Stopwatch.StartNew()).Build();
        consumer.Subscribe(topics);
        long read = 0;
        long checksum = 0;
        while (read < count)
        {
            var r = consumer.Consume(TimeSpan.FromSeconds(30)) ?? throw new TimeoutException($"The bare consumer read only {read} records.");
            checksum += r.Message.Value?.Length ?? 0;
            read++;
        }

        var elapsed = assigned!.Elapsed;
        consumer.Close();
        GC.KeepAlive(checksum);
        return elapsed;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static async Task<(TimeSpan Elapsed, int Stored, long DeadLettered)> PipelineAsync(
        MockKafkaCluster cluster, Dictionary<SourceKind, string> topics, string dlq, string plans, int count)
    {
        var directory = Directory.CreateTempSubdirectory("ap-kafka-bench-");
        using var store = PipelineStore(directory.FullName);
        using var host = BuildHost(cluster, topics, dlq, plans, store.Store, []);
        long completed = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == AuditMetrics.MeterName && instrument.Name is "audit_events_stored" or "audit_events_duplicate" or "audit_events_dead_lettered")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        long dead = 0;
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            Interlocked.Add(ref completed, value);
            if (instrument.Name == "audit_events_dead_lettered")
            {
                Interlocked.Add(ref dead, value);
            }
        });
        listener.Start();
        await host.StartAsync();
        var source = host.Services.GetRequiredService<KafkaAuditSource>();
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (source.AssignedCount == 0 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(1);
        }

        var start = Stopwatch.GetTimestamp();
        while (Interlocked.Read(ref completed) < count)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The pipeline completed only {completed} of {count} messages.");
            }

            await Task.Delay(5);
        }

        var elapsed = Stopwatch.GetElapsedTime(start);
        await host.StopAsync();
        return (elapsed, (int)(Interlocked.Read(ref completed) - Interlocked.Read(ref dead)), Interlocked.Read(ref dead));
    }

    /// <summary>The Kafka source alone: a queue that completes each message as it is written.</summary>
    private static TimeSpan SourceOnly(MockKafkaCluster cluster, Dictionary<SourceKind, string> topics, string dlq, int count)
    {
        var options = new KafkaOptions
        {
            BootstrapServers = cluster.BootstrapServers,
            GroupId = MockKafkaCluster.UniqueName("source-only"),
            Topics = new KafkaTopicsOptions { Crm = topics[SourceKind.Crm], Auth = topics[SourceKind.Auth], Ai = topics[SourceKind.Ai], Platform = topics[SourceKind.Platform] },
            DeadLetterTopic = dlq,
            Client = new() { ["session.timeout.ms"] = "6000" },
        };
        var clients = new KafkaClients(options, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        using var producer = new KafkaProducer(clients);
        var queue = new CompletingQueue();
        var source = new KafkaAuditSource(
            clients,
            queue,
            new KafkaDeadLetterWriter(producer, options, Microsoft.Extensions.Logging.Abstractions.NullLogger<KafkaDeadLetterWriter>.Instance),
            null,
            null,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<KafkaAuditSource>.Instance);
        using var stop = new CancellationTokenSource();
        var loop = Task.Factory.StartNew(() => source.Run(stop.Token, CancellationToken.None), TaskCreationOptions.LongRunning);
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (source.AssignedCount == 0 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(1);
        }

        var start = Stopwatch.GetTimestamp();
        while (Interlocked.Read(ref queue.Written) < count && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(5);
        }

        var elapsed = Stopwatch.GetElapsedTime(start);
        stop.Cancel();
        loop.Wait(TimeSpan.FromSeconds(30));
        return elapsed;
    }

    private sealed class CompletingQueue : IIngestQueue
    {
        public long Written;

        public ValueTask WriteAsync(IngestMessage message, CancellationToken cancellationToken)
        {
            TryWrite(message);
            return ValueTask.CompletedTask;
        }

        public bool TryWrite(IngestMessage message)
        {
            message.Origin.Complete(message);
            Interlocked.Increment(ref Written);
            return true;
        }

        public ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken) => ValueTask.FromResult(true);

        public Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>The store fails for the whole run: what does the process hold while Kafka has the whole backlog?</summary>
    private static async Task StalledAsync(MockKafkaCluster cluster, Dictionary<SourceKind, string> topics, string dlq, string plans, int count)
    {
        var ingest = new IngestOptions();
        var store = CreateStore();
        store.Failing = true;
        GC.Collect();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        using var host = BuildHost(cluster, topics, dlq, plans, store, []);
        await host.StartAsync();
        var source = host.Services.GetRequiredService<KafkaAuditSource>();
        var pipeline = host.Services.GetRequiredService<IngestPipeline>();
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!source.Paused && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        long peakInFlight = 0;
        long peakHeap = 0;
        for (var i = 0; i < 50; i++)
        {
            peakInFlight = Math.Max(peakInFlight, pipeline.InFlight);
            peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(false));
            await Task.Delay(100);
        }

        var settled = GC.GetTotalMemory(forceFullCollection: true);
        using var self = Process.GetCurrentProcess();
        Console.WriteLine($"Store stalled:             paused={source.Paused}, lag={source.Lag:N0}, in flight ≤ {peakInFlight:N0} (queue {ingest.ChannelCapacity:N0} + batches of {ingest.BatchSize:N0})");
        Console.WriteLine($"                           managed heap {before / 1048576.0:F0} MiB before start, ≤ {peakHeap / 1048576.0:F0} MiB while stalled, {settled / 1048576.0:F0} MiB after a full GC; peak working set {self.PeakWorkingSet64 / 1048576.0:F0} MiB");
        Console.WriteLine($"                           backlog left in Kafka: {count - peakInFlight:N0} of {count:N0} messages");
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await host.StopAsync(stop.Token);
        }
        catch (OperationCanceledException)
        {
            // The store never recovers in this run; stopping gives up on the in-flight batch by design.
        }
    }

    private static IHost BuildHost(MockKafkaCluster cluster, Dictionary<SourceKind, string> topics, string dlq, string plans, IAuditStore store, Dictionary<string, string?> extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = cluster.BootstrapServers,
            ["Kafka:GroupId"] = MockKafkaCluster.UniqueName("pipeline"),
            ["Kafka:Topics:crm"] = topics[SourceKind.Crm],
            ["Kafka:Topics:auth"] = topics[SourceKind.Auth],
            ["Kafka:Topics:ai"] = topics[SourceKind.Ai],
            ["Kafka:Topics:platform"] = topics[SourceKind.Platform],
            ["Kafka:DeadLetterTopic"] = dlq,
            ["Kafka:PlansTopic"] = plans,
            ["Kafka:Client:session.timeout.ms"] = "6000",
        };
        foreach (var (k, v) in extra)
        {
            settings[k] = v;
        }

        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        var services = builder.Services;
        services.AddAuditCore(builder.Configuration);
        services.AddSingleton(store);
        services.AddKafkaSource(builder.Configuration);
        return builder.Build();
    }
}
