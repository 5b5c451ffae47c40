using System.Text;
using System.Text.Json;
using AuditPipeline.Core.Ingest;
using AuditPipeline.Embedded.Inbox;
using AuditPipeline.Embedded.Tests.Support;
using AuditPipeline.Testing;
using Microsoft.Extensions.Options;
using static AuditPipeline.Embedded.Tests.Inbox.InboxRotationTests;

namespace AuditPipeline.Embedded.Tests.Inbox;

/// <summary>Too-long lines, unterminated final lines and CRLF: what is offered, when, and what memory it costs.</summary>
[Collection(nameof(InboxMemoryCollection))]
public sealed class InboxLineTests : IDisposable
{
    private const string Name = "crm-2026-11-29.jsonl";
    private const int Limit = 1024 * 1024;
    private readonly TempDirectory _dir = new();
    private readonly ManualClock _clock = new();
    private readonly RecordingLogger<InboxSource> _log = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_10_MiB_line_is_dead_lettered_with_its_length_and_a_bounded_prefix_and_the_lines_around_it_are_offered()
    {
        var big = 10 * 1024 * 1024;
        using (var f = new FileStream(Path(Name), FileMode.Create))
        {
            f.Write(Encoding.UTF8.GetBytes(Lines(1, 1)));
            f.Write(Encoding.UTF8.GetBytes("{\"id\":\"evt_big\",\"pad\":\""));
            var pad = new byte[big - 23 - 2];
            pad.AsSpan().Fill((byte)'x');
            f.Write(pad);
            f.Write("\"}\r\n"u8);
            f.Write(Encoding.UTF8.GetBytes(Lines(2, 2)));
        }

        var queue = new RecordingQueue { AutoComplete = true };
        using var source = NewSource(queue);
        await source.PollOnceAsync(Ct);

        Assert.Equal(Ids(1, 2), queue.Messages.Select(Id));
        var record = Assert.Single(DeadLetters());
        Assert.Equal(2, record.GetProperty("line").GetInt64());
        Assert.Equal(big + 1, record.GetProperty("length").GetInt64());
        Assert.StartsWith("{\"id\":\"evt_big\"", record.GetProperty("rawPrefix").GetString(), StringComparison.Ordinal);
        Assert.Equal(InboxSource.KeptPrefixBytes, record.GetProperty("rawPrefix").GetString()!.Length);
        Assert.Equal($"the line is {big + 1} bytes, larger than the limit of {Limit} bytes (MaxMessageBytes); its first {InboxSource.KeptPrefixBytes} bytes are kept here", record.GetProperty("reason").GetString());

        source.SaveCheckpoint(force: true);
        var again = new RecordingQueue();
        using var restarted = NewSource(again);
        await restarted.PollOnceAsync(Ct);
        Assert.Empty(again.Messages);
        Assert.Single(DeadLetters());
    }

    [Fact]
    public async Task A_100_MiB_line_without_a_newline_is_never_buffered_and_is_scanned_once_however_often_polled()
    {
        const long size = 100L * 1024 * 1024;
        using (var f = new FileStream(Path(Name), FileMode.Create))
        {
            f.Write(Encoding.UTF8.GetBytes(Lines(1, 1)));
            var chunk = new byte[1024 * 1024];
            chunk.AsSpan().Fill((byte)'x');
            for (var i = 0; i < size / chunk.Length; i++)
            {
                f.Write(chunk);
            }
        }

        var queue = new RecordingQueue { AutoComplete = true };
        using var source = NewSource(queue);
        await source.PollOnceAsync(Ct);
        var before = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 0; i < 3; i++)
        {
            _clock.Advance(TimeSpan.FromMilliseconds(100));
            await source.PollOnceAsync(Ct);
        }

        var polled = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Equal(Ids(1, 1), queue.Messages.Select(Id));
        Assert.True(polled < 4 * 1024 * 1024, $"three polls of an unchanged file allocated {polled} bytes");
        Assert.Empty(DeadLetters());

        // Still no newline: once the file is quiet it is a final line like any other, dead-lettered.
        File.AppendAllText(Path(Name), "yyy");
        before = GC.GetTotalAllocatedBytes(precise: true);
        await source.PollOnceAsync(Ct);
        _clock.Advance(TimeSpan.FromSeconds(3));
        await source.PollOnceAsync(Ct);
        var read = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.True(read < 8 * 1024 * 1024, $"reading on past a 100 MiB line allocated {read} bytes");
        var record = Assert.Single(DeadLetters());
        Assert.Equal(size + 3, record.GetProperty("length").GetInt64());
        Assert.Equal(0, source.UnreadBytes());
    }

    [Fact]
    public async Task A_partial_final_line_is_held_back_with_one_warning_and_offered_once_when_completed()
    {
        var line2 = Lines(2, 2);
        File.WriteAllText(Path(Name), Lines(1, 1) + line2[..30]);
        var queue = new RecordingQueue { AutoComplete = true };
        using var source = NewSource(queue);

        await source.PollOnceAsync(Ct);
        _clock.Advance(TimeSpan.FromSeconds(1));
        await source.PollOnceAsync(Ct);
        File.AppendAllText(Path(Name), line2[30..40]);
        await source.PollOnceAsync(Ct);
        Assert.Equal(Ids(1, 1), queue.Messages.Select(Id));
        Assert.Equal(40, source.UnreadBytes());

        File.AppendAllText(Path(Name), line2[40..] + Lines(3, 3));
        await source.PollOnceAsync(Ct);
        _clock.Advance(TimeSpan.FromSeconds(10));
        await source.PollOnceAsync(Ct);

        Assert.Equal(Ids(1, 3), queue.Messages.Select(Id));
        var warning = Assert.Single(_log.Warnings);
        Assert.Contains($"{Name} ends in 30 bytes without a newline at offset {Lines(1, 1).Length} (line 2)", warning, StringComparison.Ordinal);
        Assert.Equal(0, source.UnreadBytes());
    }

    [Fact]
    public async Task A_final_line_without_a_newline_is_offered_once_the_file_has_been_quiet_for_the_quiet_period_and_not_before()
    {
        File.WriteAllText(Path(Name), Lines(1, 1) + Line(2));
        var queue = new RecordingQueue { AutoComplete = true };
        using var source = NewSource(queue);

        await source.PollOnceAsync(Ct);
        _clock.Advance(TimeSpan.FromSeconds(1.9));
        await source.PollOnceAsync(Ct);
        var beforeQuiet = queue.Messages.Count;
        _clock.Advance(TimeSpan.FromSeconds(0.2));
        await source.PollOnceAsync(Ct);
        await source.PollOnceAsync(Ct);
        File.AppendAllText(Path(Name), "\r\n" + Lines(3, 3));
        await source.PollOnceAsync(Ct);

        Assert.Equal(1, beforeQuiet);
        Assert.Equal(Ids(1, 3), queue.Messages.Select(Id));
        Assert.All(queue.Messages, m => Assert.False(m.Value.Span.EndsWith("\r"u8)));
    }

    [Fact]
    public async Task A_line_within_the_limit_plus_its_CR_is_offered_without_the_CR()
    {
        var exact = "{\"id\":\"evt_1\",\"p\":\"" + new string('a', 100 - 21) + "\"}";
        Assert.Equal(100, exact.Length);
        File.WriteAllText(Path(Name), "\uFEFF" + exact + "\r\n\r\n" + exact.Replace("evt_1", "evt_2", StringComparison.Ordinal) + "x\n");
        var queue = new RecordingQueue { AutoComplete = true };
        using var source = new InboxSource(queue, Options.Create(new InboxOptions { Path = _dir.Path }), _log, _clock, Options.Create(new IngestOptions { MaxMessageBytes = 100 }));

        await source.PollOnceAsync(Ct);

        // The BOM and CR do not count; a line a little over the limit goes to the normalizer, which rejects it by size.
        Assert.Equal([exact, exact.Replace("evt_1", "evt_2", StringComparison.Ordinal) + "x"], queue.Messages.Select(m => Encoding.UTF8.GetString(m.Value.Span)));
        Assert.Equal([1L, 3L], queue.Messages.Select(m => ((InboxPosition)m.Position!).Line));
    }

    [Fact]
    public async Task The_unread_bytes_gauge_counts_what_is_read_but_not_completed()
    {
        File.WriteAllText(Path(Name), Lines(1, 3));
        var queue = new RecordingQueue();
        using var source = NewSource(queue);

        await source.PollOnceAsync(Ct);
        var allRead = source.UnreadBytes();
        queue.CompleteUpTo(1);
        var oneDone = source.UnreadBytes();
        queue.CompleteUpTo(3);

        Assert.Equal(Lines(1, 3).Length, allRead);
        Assert.Equal(Lines(2, 3).Length, oneDone);
        Assert.Equal(0, source.UnreadBytes());
    }

    private InboxSource NewSource(RecordingQueue queue) =>
        new(queue, Options.Create(new InboxOptions { Path = _dir.Path, QuietPeriod = TimeSpan.FromSeconds(2) }), _log, _clock, Options.Create(new IngestOptions { MaxMessageBytes = Limit }));

    private List<JsonElement> DeadLetters()
    {
        var path = Path(InboxSource.DeadLetterFileName);
        return File.Exists(path) ? [.. File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement.Clone())] : [];
    }

    private string Path(string name) => System.IO.Path.Combine(_dir.Path, name);
}

/// <summary>Allocation is measured process-wide: these tests run alone.</summary>
[CollectionDefinition(nameof(InboxMemoryCollection), DisableParallelization = true)]
public sealed class InboxMemoryCollection;
