using System.Text;
using System.Text.Json;
using AuditPipeline.Core.Normalization;
using AuditPipeline.Embedded.Inbox;
using AuditPipeline.Embedded.Tests.Support;
using AuditPipeline.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Embedded.Tests.Inbox;

public sealed class InboxSourceTests : IDisposable
{
    private const string Crm1 = """{"id":"evt_1","type":"deal.updated","created_at":"2026-11-29T10:32:00Z","org_id":"org_42"}""";
    private const string Crm2 = """{"id":"evt_2","type":"deal.updated","created_at":"2026-11-29T10:33:00Z","org_id":"org_42"}""";
    private const string Auth1 = """{"event_id":"au_1","ts":1764412320000,"tenant":"org_42","event":"logout","user":{"id":"usr_7"}}""";

    private readonly TempDirectory _dir = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Each_line_becomes_one_message_of_the_kind_the_file_prefix_names_and_blank_lines_are_skipped()
    {
        Write("crm-2026-11-29.jsonl", Crm1 + "\r\n\n   \n" + Crm2 + "\n");
        var queue = new RecordingQueue();
        using var source = NewSource(queue);

        await source.PollOnceAsync(Ct);

        Assert.Equal([Crm1, Crm2], queue.Messages.Select(Text));
        Assert.All(queue.Messages, m => Assert.Equal(SourceKind.Crm, m.Kind));
        Assert.Equal([1L, 4L], queue.Messages.Select(m => ((InboxPosition)m.Position!).Line));
    }

    [Fact]
    public async Task Appended_lines_and_new_files_are_picked_up_and_a_partial_line_waits_for_its_newline()
    {
        Write("crm-a.jsonl", Crm1 + "\n");
        var queue = new RecordingQueue();
        using var source = NewSource(queue);
        await source.PollOnceAsync(Ct);

        Append("crm-a.jsonl", Crm2[..20]);
        await source.PollOnceAsync(Ct);
        var beforeNewline = queue.Messages.Count;
        Append("crm-a.jsonl", Crm2[20..] + "\n");
        Write("auth-b.jsonl", Auth1 + "\n");
        await source.PollOnceAsync(Ct);

        Assert.Equal(1, beforeNewline);
        Assert.Equal([Crm1, Auth1, Crm2], queue.Messages.Select(Text));
        Assert.Equal([SourceKind.Crm, SourceKind.Auth, SourceKind.Crm], queue.Messages.Select(m => m.Kind));
    }

    [Fact]
    public async Task Files_with_an_unknown_prefix_or_another_extension_are_ignored()
    {
        Write("billing-2026.jsonl", Crm1 + "\n");
        Write("crm-notes.txt", Crm1 + "\n");
        Write(InboxSource.DeadLetterFileName, Crm1 + "\n");
        Write(InboxCheckpoint.FileName, """{"files":{}}""");
        Write("ai-1.jsonl", """{"action_id":"ai_1"}""" + "\n");
        Write("platform-1.jsonl", """{"event_id":"pl_1"}""" + "\n");
        var queue = new RecordingQueue();
        using var source = NewSource(queue);

        await source.PollOnceAsync(Ct);

        Assert.Equal([SourceKind.Ai, SourceKind.Platform], queue.Messages.Select(m => m.Kind));
    }

    [Fact]
    public async Task After_a_crash_reading_resumes_after_the_last_checkpointed_completed_line()
    {
        Write("crm-1.jsonl", string.Join("\n", Enumerable.Range(1, 5).Select(Line)) + "\n");
        var first = new RecordingQueue();
        using (var source = NewSource(first))
        {
            await source.PollOnceAsync(Ct);
            first.CompleteUpTo(3);
            source.SaveCheckpoint();

            // Crash: no stop, no final checkpoint; lines 4 and 5 were read but never completed.
        }

        Append("crm-1.jsonl", Line(6) + "\n");
        var second = new RecordingQueue();
        using var restarted = NewSource(second);
        await restarted.PollOnceAsync(Ct);

        Assert.Equal(5, first.Messages.Count);
        Assert.Equal([Line(4), Line(5), Line(6)], second.Messages.Select(Text));
        Assert.Equal([4L, 5L, 6L], second.Messages.Select(m => ((InboxPosition)m.Position!).Line));
    }

    [Fact]
    public async Task The_checkpoint_never_passes_a_line_that_is_not_completed()
    {
        Write("crm-1.jsonl", Line(1) + "\n\n" + Line(2) + "\n\n");
        var queue = new RecordingQueue();
        using (var source = NewSource(queue))
        {
            await source.PollOnceAsync(Ct);
            queue.CompleteUpTo(1);
            source.SaveCheckpoint();
        }

        var again = new RecordingQueue();
        using var restarted = NewSource(again);
        await restarted.PollOnceAsync(Ct);

        Assert.Equal([Line(2)], again.Messages.Select(Text));
    }

    [Fact]
    public async Task A_graceful_stop_flushes_and_checkpoints_everything_read()
    {
        Write("crm-1.jsonl", string.Join("\n", Enumerable.Range(1, 50).Select(Line)) + "\n\n");
        var queue = new RecordingQueue();
        using (var source = NewSource(queue))
        {
            await source.StartAsync(Ct);
            await WaitUntilAsync(() => queue.Messages.Count == 50);
            await source.StopAsync(Ct);
        }

        var again = new RecordingQueue();
        using var restarted = NewSource(again);
        await restarted.PollOnceAsync(Ct);

        Assert.Empty(again.Messages);
        using var checkpoint = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir.Path, InboxCheckpoint.FileName)));
        var file = checkpoint.RootElement.GetProperty("files").GetProperty("crm-1.jsonl");
        Assert.Equal(new FileInfo(Path.Combine(_dir.Path, "crm-1.jsonl")).Length, file.GetProperty("offset").GetInt64());
        Assert.Equal(51, file.GetProperty("line").GetInt64());
    }

    [Fact]
    public async Task A_rejected_line_is_written_once_to_a_dead_letter_file_that_is_never_read_as_input()
    {
        Write("crm-1.jsonl", Crm1 + "\nnot json\n");
        var queue = new RecordingQueue();
        using var source = NewSource(queue);
        await source.PollOnceAsync(Ct);
        var rejected = queue.Messages[1];

        await source.DeadLetterAsync(rejected, "the message is not a JSON object", Ct);
        queue.CompleteUpTo(2);
        await source.PollOnceAsync(Ct);

        var lines = File.ReadAllLines(Path.Combine(_dir.Path, InboxSource.DeadLetterFileName));
        var record = Assert.Single(lines);
        using var doc = JsonDocument.Parse(record);
        Assert.Equal("crm-1.jsonl", doc.RootElement.GetProperty("file").GetString());
        Assert.Equal(2, doc.RootElement.GetProperty("line").GetInt64());
        Assert.Equal("the message is not a JSON object", doc.RootElement.GetProperty("reason").GetString());
        Assert.Equal("not json", doc.RootElement.GetProperty("raw").GetString());
        Assert.Equal(2, queue.Messages.Count);
        Assert.False(InboxSource.DeadLetterFileName.EndsWith(".jsonl", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_file_that_shrank_below_its_checkpoint_is_read_again_from_the_start()
    {
        Write("crm-1.jsonl", Crm1 + "\n" + Crm2 + "\n");
        var queue = new RecordingQueue { AutoComplete = true };
        using var source = NewSource(queue);
        await source.PollOnceAsync(Ct);

        Write("crm-1.jsonl", Auth1 + "\n");
        await source.PollOnceAsync(Ct);

        Assert.Equal([Crm1, Crm2, Auth1], queue.Messages.Select(Text));
    }

    private static string Line(int n) => Crm1.Replace("evt_1", "evt_" + n, StringComparison.Ordinal);

    private static string Text(Core.Ingest.IngestMessage m) => Encoding.UTF8.GetString(m.Value.Span);

    private InboxSource NewSource(RecordingQueue queue) =>
        new(queue, Options.Create(new InboxOptions { Path = _dir.Path, PollInterval = TimeSpan.FromMilliseconds(20) }), NullLogger<InboxSource>.Instance);

    private void Write(string name, string content) => File.WriteAllText(Path.Combine(_dir.Path, name), content);

    private void Append(string name, string content) => File.AppendAllText(Path.Combine(_dir.Path, name), content);

    private static Task WaitUntilAsync(Func<bool> condition) =>
        Eventually.TrueAsync(condition, TimeSpan.FromSeconds(20), () => "the inbox source did not reach the expected state");
}
