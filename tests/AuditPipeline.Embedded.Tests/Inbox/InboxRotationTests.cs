using System.Text;
using AuditPipeline.Core.Ingest;
using AuditPipeline.Embedded.Inbox;
using AuditPipeline.Embedded.Tests.Support;
using AuditPipeline.Testing;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Embedded.Tests.Inbox;

/// <summary>Rotation, truncation and replacement of inbox files: every line offered once, none skipped.</summary>
public sealed class InboxRotationTests : IDisposable
{
    private const string Name = "crm-2026-11-29.jsonl";
    private readonly TempDirectory _dir = new();
    private readonly ManualClock _clock = new();
    private readonly RecordingLogger<InboxSource> _log = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_file_renamed_away_is_read_to_its_end_and_the_new_file_under_its_name_from_its_start()
    {
        Write(Name, Lines(1, 3));
        var queue = new RecordingQueue { AutoComplete = true };
        using var source = NewSource(queue);
        await source.PollOnceAsync(Ct);

        // logrotate's default: the producer wrote more, the file is renamed, a new one takes the name,
        // and the producer (still holding the old file open) finishes a line in the old one.
        Append(Name, Lines(4, 5));
        File.Move(Path(Name), Path(Name + ".1"));
        Write(Name, Lines(100, 102));
        Append(Name + ".1", Lines(6, 6));
        await source.PollOnceAsync(Ct);
        Append(Name + ".1", Lines(7, 7));
        Append(Name, Lines(103, 103));
        await source.PollOnceAsync(Ct);

        AssertOfferedOnce(queue, [.. Ids(1, 7), .. Ids(100, 103)]);
    }

    [Fact]
    public async Task A_file_moved_to_another_jsonl_name_is_not_read_again()
    {
        Write(Name, Lines(1, 3));
        var queue = new RecordingQueue { AutoComplete = true };
        using var source = NewSource(queue);
        await source.PollOnceAsync(Ct);

        Append(Name, Lines(4, 4));
        File.Move(Path(Name), Path("crm-2026-11-29-archived.jsonl"));
        await source.PollOnceAsync(Ct);

        AssertOfferedOnce(queue, Ids(1, 4));
    }

    [Fact]
    public async Task Copytruncate_with_unread_lines_reads_them_from_the_copy_and_the_truncated_file_from_its_start()
    {
        Write(Name, Lines(1, 3));
        var queue = new RecordingQueue { AutoComplete = true };
        using var source = NewSource(queue);
        await source.PollOnceAsync(Ct);

        Append(Name, Lines(4, 5));
        File.Copy(Path(Name), Path(Name + ".1"));
        using (new FileStream(Path(Name), FileMode.Truncate, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
        {
        }

        Append(Name, Lines(100, 101));
        await source.PollOnceAsync(Ct);

        AssertOfferedOnce(queue, [.. Ids(1, 5), .. Ids(100, 101)]);
        Assert.Contains(_log.Lines, l => l.Message.Contains("its content is in " + Name + ".1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Copytruncate_of_a_file_read_to_its_end_repeats_nothing()
    {
        Write(Name, Lines(1, 3));
        var queue = new RecordingQueue { AutoComplete = true };
        using var source = NewSource(queue);
        await source.PollOnceAsync(Ct);

        File.Copy(Path(Name), Path(Name + ".1"));
        File.WriteAllText(Path(Name), string.Empty);
        await source.PollOnceAsync(Ct);
        Append(Name, Lines(100, 100));
        await source.PollOnceAsync(Ct);

        AssertOfferedOnce(queue, [.. Ids(1, 3), .. Ids(100, 100)]);
    }

    [Fact]
    public async Task A_file_replaced_in_place_by_another_of_the_same_length_is_read_from_its_start()
    {
        Write(Name, Lines(1, 3));
        var queue = new RecordingQueue { AutoComplete = true };
        using var source = NewSource(queue);
        await source.PollOnceAsync(Ct);
        var length = new FileInfo(Path(Name)).Length;

        // Same inode, same length, other bytes: within one kernel clock tick even the time is the same,
        // so the first bytes are checked again once the re-check interval has passed.
        Write(Name, Lines(4, 6));
        Assert.Equal(length, new FileInfo(Path(Name)).Length);
        _clock.Advance(InboxFileTracker.ReverifyInterval);
        await source.PollOnceAsync(Ct);

        AssertOfferedOnce(queue, Ids(1, 6));
    }

    [Fact]
    public async Task A_file_replaced_by_a_new_file_of_the_same_length_under_its_name_is_read_from_its_start()
    {
        Write(Name, Lines(1, 3));
        var queue = new RecordingQueue { AutoComplete = true };
        using var source = NewSource(queue);
        await source.PollOnceAsync(Ct);

        Write("new.tmp", Lines(4, 6));
        File.Move(Path("new.tmp"), Path(Name), overwrite: true);
        await source.PollOnceAsync(Ct);

        AssertOfferedOnce(queue, Ids(1, 6));
    }

    [Fact]
    public async Task A_file_replaced_by_a_longer_one_sharing_no_prefix_is_read_from_its_start()
    {
        Write(Name, Lines(1, 2));
        var queue = new RecordingQueue { AutoComplete = true };
        using var source = NewSource(queue);
        await source.PollOnceAsync(Ct);

        Write(Name, Lines(10, 20));
        await source.PollOnceAsync(Ct);

        AssertOfferedOnce(queue, [.. Ids(1, 2), .. Ids(10, 20)]);
    }

    [Fact]
    public async Task A_file_that_vanished_with_unread_lines_is_named_in_a_warning_with_what_was_lost()
    {
        Write(Name, Lines(1, 2) + Lines(3, 3)[..30]);
        var queue = new RecordingQueue { AutoComplete = true };
        using var source = NewSource(queue);
        await source.PollOnceAsync(Ct);

        File.Delete(Path(Name));
        await source.PollOnceAsync(Ct);

        AssertOfferedOnce(queue, Ids(1, 2));
        var warning = Assert.Single(_log.Warnings, w => w.Contains("is gone", StringComparison.Ordinal));
        Assert.Contains(Name, warning, StringComparison.Ordinal);
        Assert.Contains("30 bytes not read", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Killed_after_reading_and_before_checkpointing_then_rotated_while_down_no_line_is_skipped()
    {
        Write(Name, Lines(1, 5));
        var first = new RecordingQueue();
        using (var source = NewSource(first))
        {
            await source.PollOnceAsync(Ct);
            first.CompleteUpTo(2);
            source.SaveCheckpoint();
            first.CompleteUpTo(4);

            // Killed here: lines 3 and 4 were completed after the last checkpoint, 5 never.
        }

        Append(Name, Lines(6, 6));
        File.Move(Path(Name), Path(Name + ".1"));
        Write(Name, Lines(100, 101));
        var second = new RecordingQueue { AutoComplete = true };
        using var restarted = NewSource(second);
        await restarted.PollOnceAsync(Ct);

        Assert.Equal(Ids(1, 5), first.Messages.Select(Id));
        AssertOfferedOnce(second, [.. Ids(3, 6), .. Ids(100, 101)]);
    }

    [Fact]
    public async Task Killed_then_copytruncated_while_down_the_unread_lines_come_from_the_copy()
    {
        Write(Name, Lines(1, 5));
        var first = new RecordingQueue();
        using (var source = NewSource(first))
        {
            await source.PollOnceAsync(Ct);
            first.CompleteUpTo(3);
            source.SaveCheckpoint();
        }

        File.Copy(Path(Name), Path(Name + ".1"));
        Write(Name, Lines(100, 100));
        var second = new RecordingQueue { AutoComplete = true };
        using var restarted = NewSource(second);
        await restarted.PollOnceAsync(Ct);

        AssertOfferedOnce(second, [.. Ids(4, 5), .. Ids(100, 100)]);
    }

    [Fact]
    public async Task Rotated_twice_while_stopped_the_file_in_between_is_read_from_its_start()
    {
        Assert.SkipUnless(FileIdentity.Supported, "a file under a rotated name is known by its inode");
        Write(Name, Lines(1, 2));
        using (var source = NewSource(new RecordingQueue { AutoComplete = true }))
        {
            await source.PollOnceAsync(Ct);
            source.SaveCheckpoint(force: true);
        }

        File.Move(Path(Name), Path(Name + ".1"));
        Write(Name, Lines(10, 11));
        File.Move(Path(Name + ".1"), Path(Name + ".2"));
        File.Move(Path(Name), Path(Name + ".1"));
        Write(Name, Lines(20, 20));
        var queue = new RecordingQueue { AutoComplete = true };
        using var restarted = NewSource(queue);
        await restarted.PollOnceAsync(Ct);

        AssertOfferedOnce(queue, [.. Ids(10, 11), .. Ids(20, 20)]);
    }

    [Fact]
    public async Task Rotated_files_present_at_the_very_first_start_are_not_input_now_or_after_a_restart()
    {
        Write(Name + ".1", Lines(1, 2));
        Write(Name, Lines(3, 3));
        var queue = new RecordingQueue { AutoComplete = true };
        using (var source = NewSource(queue))
        {
            await source.PollOnceAsync(Ct);
            source.SaveCheckpoint(force: true);
        }

        File.Move(Path(Name + ".1"), Path(Name + ".2"));
        using var restarted = NewSource(queue);
        await restarted.PollOnceAsync(Ct);

        AssertOfferedOnce(queue, Ids(3, 3));
    }

    [Fact]
    public async Task A_checkpoint_written_before_files_had_identities_is_resumed_by_name()
    {
        Write(Name, Lines(1, 4));
        var offset = Encoding.UTF8.GetByteCount(Lines(1, 2));
        Write(InboxCheckpoint.FileName, "{\"files\":{\"" + Name + "\":{\"offset\":" + offset + ",\"line\":2}}}");
        var queue = new RecordingQueue { AutoComplete = true };
        using var source = NewSource(queue);

        await source.PollOnceAsync(Ct);
        source.SaveCheckpoint(force: true);

        AssertOfferedOnce(queue, Ids(3, 4));
        Assert.Contains("\"headSha256\"", File.ReadAllText(Path(InboxCheckpoint.FileName)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Random_rotations_truncations_and_partial_writes_offer_every_line_exactly_once()
    {
        Assert.SkipUnless(FileIdentity.Supported, "two rotations between two looks are told apart by inode only");
        for (var seed = 1; seed <= 40; seed++)
        {
            var (written, offered, _) = await RandomRunAsync(seed, crashes: false);
            Assert.True(written.Order(StringComparer.Ordinal).SequenceEqual(offered.Order(StringComparer.Ordinal)), $"seed {seed}: wrote {written.Count}, offered {offered.Count}: {string.Join(",", offered)}");
        }
    }

    [Fact]
    public async Task Random_rotations_with_kills_between_reading_and_checkpointing_skip_no_line()
    {
        Assert.SkipUnless(FileIdentity.Supported, "two rotations between two looks are told apart by inode only");
        for (var seed = 100; seed <= 140; seed++)
        {
            var (written, offered, kills) = await RandomRunAsync(seed, crashes: true);
            var missing = written.Except(offered).ToList();
            Assert.True(missing.Count == 0, $"seed {seed}: never offered {string.Join(",", missing)}");
            Assert.Empty(offered.Except(written));
            Assert.All(offered.CountBy(x => x), c => Assert.True(c.Value <= kills + 1, $"seed {seed}: {c.Key} offered {c.Value} times with {kills} kills"));
        }
    }

    /// <summary>With <paramref name="inGap"/>, half the rotations land between a look's listing and its match.</summary>
    internal static async Task<(List<string> Written, List<string> Offered, int Kills)> RandomRunAsync(int seed, bool crashes, bool inGap = false)
    {
        using var dir = new TempDirectory();
        var random = new Random(seed);
        var queue = new RecordingQueue { AutoComplete = true };
        var clock = new ManualClock();
        var written = new List<string>();
        var next = 1;
        var kills = 0;
        string? partial = null;
        InboxSource NewSource() => new(queue, Options.Create(new InboxOptions { Path = dir.Path, QuietPeriod = TimeSpan.FromSeconds(2) }), new RecordingLogger<InboxSource>(), clock);
        var source = NewSource();
        try
        {
            var file = System.IO.Path.Combine(dir.Path, Name);
            File.WriteAllText(file, string.Empty);
            await source.PollOnceAsync(Ct);
            for (var op = 0; op < 40; op++)
            {
                switch (random.Next(crashes ? 8 : 6))
                {
                    case 0 or 1:
                        var n = random.Next(1, 4);
                        File.AppendAllText(file, (partial ?? string.Empty) + Lines(next, next + n - 1));
                        partial = null;
                        written.AddRange(Ids(next, next + n - 1));
                        next += n;
                        break;
                    case 2 when partial is null:
                        // The producer is in the middle of a line.
                        File.AppendAllText(file, Lines(next, next)[..25]);
                        partial = Lines(next, next)[25..];
                        written.Add("evt_" + next++);
                        break;
                    case 3 when partial is null && inGap && random.Next(2) == 0:
                        var looking = source;
                        var copyTruncate = random.Next(2) == 0;
                        looking.AfterListing = () =>
                        {
                            looking.AfterListing = null;
                            Rotate(file, copyTruncate);
                        };
                        await looking.PollOnceAsync(Ct);
                        break;
                    case 3 when partial is null:
                        Rotate(file, copyTruncate: random.Next(2) == 0);
                        break;
                    case 6:
                        source.SaveCheckpoint();
                        break;
                    case 7:
                        // Killed: whatever was read after the last checkpoint is read again by the next run.
                        source.Dispose();
                        source = NewSource();
                        kills++;
                        break;
                    default:
                        await source.PollOnceAsync(Ct);
                        if (partial is null)
                        {
                            // Never past the quiet period while a line is half written: that would read it half.
                            clock.Advance(TimeSpan.FromMilliseconds(random.Next(0, 3000)));
                        }

                        break;
                }
            }

            if (partial is not null)
            {
                File.AppendAllText(file, partial);
            }

            await source.PollOnceAsync(Ct);
            return (written, [.. queue.Messages.Select(Id)], kills);
        }
        finally
        {
            source.Dispose();
        }
    }

    private static void Rotate(string file, bool copyTruncate)
    {
        for (var i = 40; i >= 1; i--)
        {
            var from = file + "." + i;
            if (File.Exists(from))
            {
                File.Move(from, file + "." + (i + 1), overwrite: true);
            }
        }

        if (copyTruncate)
        {
            File.Copy(file, file + ".1");
            File.WriteAllText(file, string.Empty);
        }
        else
        {
            File.Move(file, file + ".1");
            File.WriteAllText(file, string.Empty);
        }
    }

    internal static string Line(int n) =>
        $$$"""{"id":"evt_{{{n}}}","type":"deal.updated","created_at":"2026-11-29T10:32:00Z","org_id":"org_42","data":{"id":"deal_{{{n % 7}}}"}}""";

    internal static string Lines(int from, int to) => string.Concat(Enumerable.Range(from, to - from + 1).Select(n => Line(n) + "\n"));

    internal static List<string> Ids(int from, int to) => [.. Enumerable.Range(from, to - from + 1).Select(n => "evt_" + n)];

    internal static string Id(IngestMessage m)
    {
        var text = Encoding.UTF8.GetString(m.Value.Span);
        var start = text.IndexOf("evt_", StringComparison.Ordinal);
        return text[start..text.IndexOf('"', start)];
    }

    private static void AssertOfferedOnce(RecordingQueue queue, List<string> expected) =>
        Assert.Equal(expected.Order(StringComparer.Ordinal), queue.Messages.Select(Id).Order(StringComparer.Ordinal));

    private InboxSource NewSource(RecordingQueue queue) =>
        new(queue, Options.Create(new InboxOptions { Path = _dir.Path }), _log, _clock);

    private string Path(string name) => System.IO.Path.Combine(_dir.Path, name);

    private void Write(string name, string content) => File.WriteAllText(Path(name), content);

    private void Append(string name, string content) => File.AppendAllText(Path(name), content);
}
