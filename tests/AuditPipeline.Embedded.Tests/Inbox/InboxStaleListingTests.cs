using AuditPipeline.Embedded.Inbox;
using AuditPipeline.Embedded.Tests.Support;
using AuditPipeline.Testing;
using Microsoft.Extensions.Options;
using static AuditPipeline.Embedded.Tests.Inbox.InboxRotationTests;

namespace AuditPipeline.Embedded.Tests.Inbox;

/// <summary>
/// A look lists the directory, then opens what it listed: a rename, copy or delete landing in between
/// makes the listing stale. A file that cannot be told apart then is neither another file nor gone: every
/// line is still offered once, none read again from the start.
/// </summary>
public sealed class InboxStaleListingTests : IDisposable
{
    private const string Name = "crm-2026-11-29.jsonl";
    private readonly TempDirectory _dir = new();
    private readonly ManualClock _clock = new();
    private readonly RecordingLogger<InboxSource> _log = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_rename_rotation_landing_between_the_look_and_the_match_reads_nothing_again()
    {
        Write(Name, Lines(1, 3));
        var queue = new RecordingQueue { AutoComplete = true };
        using var source = NewSource(queue);
        await source.PollOnceAsync(Ct);

        // The look lists the grown file under its old name; logrotate renames it and the producer starts
        // a new one before the look opens it (the end-to-end run that stored 359 lines twice).
        Append(Name, Lines(4, 5));
        source.AfterListing = Once(source, () =>
        {
            File.Move(Path(Name), Path(Name + ".1"));
            Write(Name, Lines(100, 101));
        });
        await source.PollOnceAsync(Ct);
        Append(Name + ".1", Lines(6, 6));
        await source.PollOnceAsync(Ct);
        await source.PollOnceAsync(Ct);

        AssertOfferedOnce(queue, [.. Ids(1, 6), .. Ids(100, 101)]);
        Assert.DoesNotContain(_log.Warnings, w => w.Contains("lost", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_move_to_a_new_jsonl_name_landing_between_the_look_and_the_match_is_not_read_from_its_start()
    {
        Write(Name, Lines(1, 3));
        var queue = new RecordingQueue { AutoComplete = true };
        using var source = NewSource(queue);
        await source.PollOnceAsync(Ct);

        Append(Name, Lines(4, 4));
        source.AfterListing = Once(source, () => File.Move(Path(Name), Path("crm-2026-11-29-archived.jsonl")));
        await source.PollOnceAsync(Ct);
        await source.PollOnceAsync(Ct);

        AssertOfferedOnce(queue, Ids(1, 4));
    }

    [Fact]
    public async Task Two_rotations_landing_between_the_look_and_the_match_skip_and_repeat_nothing()
    {
        Write(Name, Lines(1, 3));
        var queue = new RecordingQueue { AutoComplete = true };
        using var source = NewSource(queue);
        await source.PollOnceAsync(Ct);
        File.Move(Path(Name), Path(Name + ".1"));
        Write(Name, Lines(10, 12));

        // Listed: the renamed file as .1 and a new one; opened after both moved on by one rotation.
        Append(Name + ".1", Lines(4, 5));
        source.AfterListing = Once(source, () =>
        {
            File.Move(Path(Name + ".1"), Path(Name + ".2"));
            File.Move(Path(Name), Path(Name + ".1"));
            Write(Name, Lines(20, 21));
        });
        await source.PollOnceAsync(Ct);
        await source.PollOnceAsync(Ct);
        Append(Name + ".2", Lines(6, 6));
        Append(Name + ".1", Lines(13, 13));
        await source.PollOnceAsync(Ct);

        AssertOfferedOnce(queue, [.. Ids(1, 6), .. Ids(10, 13), .. Ids(20, 21)]);
    }

    [Fact]
    public async Task A_copytruncate_copy_seen_half_written_is_not_taken_for_content_never_read()
    {
        Write(Name, Lines(1, 30));
        var queue = new RecordingQueue { AutoComplete = true };
        using var source = NewSource(queue);
        await source.PollOnceAsync(Ct);

        // A look while logrotate is still copying: the copy holds the first bytes only (less than a line).
        Append(Name, Lines(31, 32));
        var content = File.ReadAllBytes(Path(Name));
        File.WriteAllBytes(Path(Name + ".1"), content[..100]);
        await source.PollOnceAsync(Ct);
        File.WriteAllBytes(Path(Name + ".1"), content);
        File.WriteAllText(Path(Name), string.Empty);
        await source.PollOnceAsync(Ct);
        Append(Name, Lines(100, 100));
        _clock.Advance(TimeSpan.FromSeconds(10));
        await source.PollOnceAsync(Ct);

        AssertOfferedOnce(queue, [.. Ids(1, 32), .. Ids(100, 100)]);
    }

    [Fact]
    public async Task A_file_deleted_between_the_look_and_the_match_is_forgotten_at_the_next_look_naming_what_was_lost()
    {
        Write(Name, Lines(1, 2));
        var queue = new RecordingQueue { AutoComplete = true };
        using var source = NewSource(queue);
        await source.PollOnceAsync(Ct);

        Append(Name, Lines(3, 3));
        source.AfterListing = Once(source, () => File.Delete(Path(Name)));
        await source.PollOnceAsync(Ct);
        await source.PollOnceAsync(Ct);
        Write("crm-2026-11-30.jsonl", Lines(10, 10));
        await source.PollOnceAsync(Ct);

        AssertOfferedOnce(queue, [.. Ids(1, 2), .. Ids(10, 10)]);
        var warning = Assert.Single(_log.Warnings, w => w.Contains("is gone", StringComparison.Ordinal));
        Assert.Contains(Lines(3, 3).Length + " bytes not read", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_file_rotated_and_then_written_through_the_old_handle_is_read_once()
    {
        Write(Name, string.Empty);
        var queue = new RecordingQueue { AutoComplete = true };
        using var source = NewSource(queue);
        await source.PollOnceAsync(Ct);

        File.Move(Path(Name), Path(Name + ".1"));
        Write(Name, string.Empty);
        await source.PollOnceAsync(Ct);
        Append(Name + ".1", Lines(1, 2));
        Append(Name, Lines(10, 10));
        await source.PollOnceAsync(Ct);
        _clock.Advance(InboxFileTracker.ReverifyInterval);
        await source.PollOnceAsync(Ct);

        AssertOfferedOnce(queue, [.. Ids(1, 2), .. Ids(10, 10)]);
    }

    [Fact]
    public async Task Random_rotations_landing_between_the_look_and_the_match_offer_every_line_once_and_with_kills_skip_none()
    {
        Assert.SkipUnless(FileIdentity.Supported, "two rotations between two looks are told apart by inode only");
        for (var seed = 200; seed <= 399; seed++)
        {
            var (written, offered, _) = await RandomRunAsync(seed, crashes: false, inGap: true);
            Assert.True(written.Order(StringComparer.Ordinal).SequenceEqual(offered.Order(StringComparer.Ordinal)), $"seed {seed}: wrote {written.Count}, offered {offered.Count}: {string.Join(",", offered.CountBy(x => x).Where(c => c.Value > 1).Select(c => c.Key))} twice, {string.Join(",", written.Except(offered))} never");
        }

        for (var seed = 500; seed <= 699; seed++)
        {
            var (written, offered, kills) = await RandomRunAsync(seed, crashes: true, inGap: true);
            var missing = written.Except(offered).ToList();
            Assert.True(missing.Count == 0, $"seed {seed}: never offered {string.Join(",", missing)}");
            Assert.Empty(offered.Except(written));
            Assert.All(offered.CountBy(x => x), c => Assert.True(c.Value <= kills + 1, $"seed {seed}: {c.Key} offered {c.Value} times with {kills} kills"));
        }
    }

    /// <summary>Runs <paramref name="act"/> at the next look only.</summary>
    private static Action Once(InboxSource source, Action act) => () =>
    {
        source.AfterListing = null;
        act();
    };

    private static void AssertOfferedOnce(RecordingQueue queue, List<string> expected) =>
        Assert.Equal(expected.Order(StringComparer.Ordinal), queue.Messages.Select(Id).Order(StringComparer.Ordinal));

    private InboxSource NewSource(RecordingQueue queue) =>
        new(queue, Options.Create(new InboxOptions { Path = _dir.Path }), _log, _clock);

    private string Path(string name) => System.IO.Path.Combine(_dir.Path, name);

    private void Write(string name, string content) => File.WriteAllText(Path(name), content);

    private void Append(string name, string content) => File.AppendAllText(Path(name), content);
}
