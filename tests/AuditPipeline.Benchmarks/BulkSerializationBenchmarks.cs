using System.Buffers;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Retention;
using AuditPipeline.Elasticsearch;
using AuditPipeline.Testing;
using BenchmarkDotNet.Attributes;

namespace AuditPipeline.Benchmarks;

/// <summary>
/// The Elasticsearch store's CPU cost per event before any I/O: the document (source-generated
/// System.Text.Json) plus its <c>create</c> action line, appended to a bulk NDJSON body, exactly as
/// <c>ElasticsearchAuditStore.AppendAsync</c> does it. Single-threaded, so events/s is per core.
/// <code>dotnet run -c Release --project tests/AuditPipeline.Benchmarks -- --filter '*BulkSerialization*'</code>
/// </summary>
[MemoryDiagnoser]
public class BulkSerializationBenchmarks
{
    private AuditEvent[] _events = [];
    private string[] _indices = [];
    private byte[][] _documents = [];

    [Params(1000)]
    public int Events { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        // A realistic mix: crm changes with before/after, AI actions, failed logins.
        _events = [.. Enumerable.Range(0, Events).Select(i => (i % 3) switch
        {
            0 => Some.Event($"evt_{i:D10}", time: Some.BaseTime.AddSeconds(-i)),
            1 => Some.AiEvent($"ai_{i:D10}", time: Some.BaseTime.AddSeconds(-i)),
            _ => Some.FailedLogin($"au_{i:D10}", time: Some.BaseTime.AddSeconds(-i)),
        })];
        _indices = [.. _events.Select(e => AuditIndices.Month(RetentionClass.Professional, e.Time))];
        _documents = [.. _events.Select(BulkBody.Document)];
        var body = BuildBody(_events, _indices);
        Console.WriteLine($"// bulk body: {body} bytes for {Events} events = {body / (double)Events:F0} bytes per event");
    }

    /// <summary>Documents and action lines for a whole batch: what one bulk request costs in CPU.</summary>
    [Benchmark(Baseline = true)]
    public int SerializeBulkBody() => BuildBody(_events, _indices);

    /// <summary>Only the documents (source-generated JSON), for comparison.</summary>
    [Benchmark]
    public int SerializeDocuments()
    {
        var total = 0;
        foreach (var e in _events)
        {
            total += BulkBody.Document(e).Length;
        }

        return total;
    }

    /// <summary>Only the NDJSON framing of already-serialized documents (what a retry re-does).</summary>
    [Benchmark]
    public int FrameSerializedDocuments()
    {
        var buffer = new ArrayBufferWriter<byte>(Events * 1600);
        for (var i = 0; i < _events.Length; i++)
        {
            BulkBody.Append(buffer, _indices[i], _events[i].Id, _documents[i]);
        }

        return buffer.WrittenCount;
    }

    private static int BuildBody(AuditEvent[] events, string[] indices)
    {
        var buffer = new ArrayBufferWriter<byte>(events.Length * 1600);
        for (var i = 0; i < events.Length; i++)
        {
            BulkBody.Append(buffer, indices[i], events[i].Id, BulkBody.Document(events[i]));
        }

        return buffer.WrittenCount;
    }
}
