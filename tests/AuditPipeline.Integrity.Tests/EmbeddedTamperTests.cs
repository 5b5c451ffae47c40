using System.Text;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Integrity;
using AuditPipeline.Core.Storage;
using AuditPipeline.Integrity.Tests.Support;
using AuditPipeline.Testing;

namespace AuditPipeline.Integrity.Tests;

/// <summary>Whoever owns the SQLite files gets past the triggers; verification names every change they make.</summary>
public sealed class EmbeddedTamperTests : IAsyncLifetime
{
    private const string November = "events-p2y-2026-11.db";
    private readonly IntegrityHarness _h = new();
    private readonly List<string> _ids = [];

    public async ValueTask InitializeAsync()
    {
        // Two digests in November, one in October (its own partition file).
        for (var round = 0; round < 2; round++)
        {
            var batch = Enumerable.Range(0, 5).Select(i => Some.Event(time: Some.BaseTime.AddMinutes((round * 10) + i))).ToArray();
            await _h.AppendAsync(batch);
            _ids.AddRange(batch.Select(e => e.Id));
            await _h.SealAsync();
        }

        var october = Enumerable.Range(0, 3).Select(i => Some.Event(time: new DateTimeOffset(2026, 10, 3, 8, i, 0, TimeSpan.Zero))).ToArray();
        await _h.AppendAsync(october);
        _ids.AddRange(october.Select(e => e.Id));
        await _h.SealAsync();
    }

    public ValueTask DisposeAsync() => _h.DisposeAsync();

    [Fact]
    public async Task A_clean_store_verifies_with_no_problems()
    {
        var v = await _h.VerifyAsync();

        Assert.Empty(v.Lines);
        Assert.Equal((13L, 3L, 0L), (v.Events, v.Digests, v.Problems));
    }

    [Fact]
    public async Task An_event_updated_with_the_triggers_dropped_is_named_altered()
    {
        var victim = _ids[2];
        var doc = Encoding.UTF8.GetString(AuditJson.SerializeToUtf8Bytes((await _h.Store.GetAsync("org_42", victim, TestContext.Current.CancellationToken))! with
        {
            Actor = new AuditActor(ActorTypes.User, "usr_7", "Someone Else", "else@acme.test"),
        }));
        // A stopped worker: every row has been merged from the partition's tail into its events table.
        await _h.RestartAsync(() => _h.Sql(November, $"DROP TRIGGER events_no_update; UPDATE events SET doc = CAST('{doc.Replace("'", "''", StringComparison.Ordinal)}' AS BLOB) WHERE id = '{victim}';"));

        var v = await _h.VerifyAsync();

        Assert.Equal([$"altered {victim}"], v.Lines);
    }

    [Fact]
    public async Task An_event_altered_in_events_mid_is_named_altered_and_one_only_moved_there_is_not_a_problem()
    {
        var (moved, altered) = (_ids[1], _ids[6]);
        // The middle level holds rows on their way from a tail into events: the verifier reads it as it reads events.
        await _h.RestartAsync(() => _h.Sql(November, $"""
            DROP TRIGGER events_no_delete; DROP TRIGGER events_mid_no_update;
            INSERT INTO events_mid SELECT * FROM events WHERE id IN ('{moved}', '{altered}');
            DELETE FROM events WHERE id IN ('{moved}', '{altered}');
            UPDATE events_mid SET doc = CAST(replace(CAST(doc AS TEXT), 'usr_', 'usx_') AS BLOB) WHERE id = '{altered}';
            """));

        var v = await _h.VerifyAsync();

        Assert.Equal([$"altered {altered}"], v.Lines);
        Assert.Equal(13L, v.Events);
    }

    [Fact]
    public async Task An_event_updated_in_the_tail_of_a_running_store_with_the_triggers_dropped_is_named_altered()
    {
        var victim = _ids[3];
        _h.Sql(November, $"DROP TRIGGER events_tail_no_update; UPDATE events_tail SET doc = CAST(replace(CAST(doc AS TEXT), 'usr_', 'usx_') AS BLOB) WHERE id = '{victim}';");

        var v = await _h.VerifyAsync();

        Assert.Equal([$"altered {victim}"], v.Lines);
    }

    [Fact]
    public async Task An_event_deleted_from_the_tail_of_a_running_store_with_the_triggers_dropped_is_named_missing()
    {
        var victim = _ids[8];
        _h.Sql(November, $"DROP TRIGGER events_tail_no_delete; DELETE FROM events_tail WHERE id = '{victim}';");

        var v = await _h.VerifyAsync();

        Assert.Equal([$"missing {victim}"], v.Lines);
        Assert.Equal(12, v.Events);
    }

    [Fact]
    public async Task An_event_deleted_with_the_triggers_dropped_is_named_missing()
    {
        var victim = _ids[7];
        await _h.RestartAsync(() => _h.Sql(November, $"DROP TRIGGER events_no_delete; DELETE FROM events WHERE id = '{victim}';"));

        var v = await _h.VerifyAsync();

        Assert.Equal([$"missing {victim}"], v.Lines);
        Assert.Equal(12, v.Events);
    }

    [Fact]
    public async Task An_event_inserted_behind_the_pipelines_back_is_named_unsealed()
    {
        await _h.RestartAsync(() => _h.Sql(November, """
            INSERT INTO events (seq, org_id, id, time_ms, action, actor_id, entity_type, entity_id, category, source, outcome, ai, actor_name, actor_email, entity_name, doc)
            SELECT 1000, org_id, 'evt_forged', time_ms, action, actor_id, entity_type, entity_id, category, source, outcome, ai, actor_name, actor_email, entity_name,
                   CAST(replace(CAST(doc AS TEXT), id, 'evt_forged') AS BLOB)
            FROM events WHERE seq = 1;
            """));

        var v = await _h.VerifyAsync();

        Assert.Equal(["unsealed evt_forged"], v.Lines);
    }

    [Fact]
    public async Task A_whole_months_partition_file_deleted_names_each_of_its_events_missing()
    {
        await _h.RestartAsync(() =>
        {
            foreach (var f in Directory.EnumerateFiles(_h.DataPath, "events-p2y-2026-10.db*"))
            {
                File.Delete(f);
            }
        });

        var v = await _h.VerifyAsync();

        Assert.Equal(_ids.Skip(10).Select(id => $"missing {id}").Order(StringComparer.Ordinal), v.Lines.Order(StringComparer.Ordinal));
        Assert.Equal(3, v.Problems);
    }

    [Fact]
    public async Task A_digest_with_one_changed_byte_is_named_by_its_signature()
    {
        var file = Path.Combine(_h.DigestPath, "org_42", "000000000002.json");
        var bytes = await File.ReadAllBytesAsync(file, TestContext.Current.CancellationToken);
        var at = Encoding.UTF8.GetString(bytes).IndexOf(_ids[6], StringComparison.Ordinal) + _ids[6].Length - 1;
        bytes[at] = (byte)(bytes[at] == '0' ? '1' : '0');
        await File.WriteAllBytesAsync(file, bytes, TestContext.Current.CancellationToken);

        var v = await _h.VerifyAsync();

        Assert.Contains("signature org_42 2", v.Lines);
        Assert.DoesNotContain(v.Lines, l => l.StartsWith("missing", StringComparison.Ordinal) || l.StartsWith("altered", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_digest_removed_from_the_middle_of_the_chain_is_named()
    {
        File.Delete(Path.Combine(_h.DigestPath, "org_42", "000000000002.json"));

        var v = await _h.VerifyAsync();

        Assert.Contains("chain org_42 2", v.Lines);
        Assert.DoesNotContain("chain org_42 3", v.Lines);
    }

    [Fact]
    public async Task A_digest_re_signed_by_another_key_is_named_by_its_signature()
    {
        var file = Path.Combine(_h.DigestPath, "org_42", "000000000003.json");
        using var other = new DigestSigner(DigestKeys.ReadPrivateKey(DigestKeys.NewPrivateKeyPem()));
        var forged = other.Sign(DigestCodec.Decode(await File.ReadAllBytesAsync(file, TestContext.Current.CancellationToken)));
        await File.WriteAllBytesAsync(file, DigestCodec.Encode(forged), TestContext.Current.CancellationToken);

        var v = await _h.VerifyAsync();

        Assert.Equal(["signature org_42 3"], v.Lines);
    }

    [Fact]
    public async Task A_chain_rebuilt_with_the_forgers_own_key_fails_against_the_auditors_pinned_key()
    {
        var pinned = _h.Signer.PublicKeyPem;
        using var other = new DigestSigner(DigestKeys.ReadPrivateKey(DigestKeys.NewPrivateKeyPem()));
        await File.WriteAllTextAsync(Path.Combine(_h.DigestPath, "public-key.pem"), other.PublicKeyPem, TestContext.Current.CancellationToken);

        var v = await _h.VerifyAsync(publicKeyPem: pinned);

        Assert.Empty(v.Lines);
        var forged = await _h.VerifyAsync();
        Assert.Equal(["signature org_42 1", "signature org_42 2", "signature org_42 3"], forged.Lines);
    }

    [Fact]
    public async Task A_digest_that_links_to_the_wrong_predecessor_is_out_of_chain()
    {
        var file = Path.Combine(_h.DigestPath, "org_42", "000000000003.json");
        var d = DigestCodec.Decode(await File.ReadAllBytesAsync(file, TestContext.Current.CancellationToken));
        await File.WriteAllBytesAsync(file, DigestCodec.Encode(_h.Signer.Sign(d with { PreviousHash = new string('0', 64) })), TestContext.Current.CancellationToken);

        var v = await _h.VerifyAsync();

        Assert.Equal(["chain org_42 3"], v.Lines);
    }

    [Fact]
    public async Task A_stored_event_whose_record_a_crash_lost_is_recorded_from_its_stored_copy_on_redelivery()
    {
        var e = Some.Event(time: Some.BaseTime.AddHours(1));

        // The crash: the store wrote it, the observer never heard of it.
        await _h.Store.AppendAsync([e], TestContext.Current.CancellationToken);
        var redelivered = await _h.AppendAsync(e);
        await _h.SealAsync();

        Assert.Equal(AppendOutcome.Duplicate, redelivered[0].Outcome);
        var v = await _h.VerifyAsync();
        Assert.Empty(v.Lines);
        Assert.Equal(4, v.Digests);
    }

    [Fact]
    public async Task Entries_of_delivered_digests_are_forgotten_after_PruneAfter_and_a_later_redelivery_is_sealed_again_and_still_verifies()
    {
        var state = _h.State;
        Assert.Equal(13, state.Known(_ids.Select(id => ("org_42", id))).Count);

        // Seven days on (the default Integrity:PruneAfter), the next round forgets what the digests hold.
        _h.Now = _h.Now.AddDays(7).AddMinutes(1);
        await _h.SealAsync();
        Assert.Empty(state.Known(_ids.Select(id => ("org_42", id))));

        // A redelivery after that is not recognised: it is sealed again, in a new digest, and verify accepts it.
        var again = await _h.Store.GetAsync("org_42", _ids[0], TestContext.Current.CancellationToken);
        await _h.AppendAsync(again!);
        Assert.Equal(1, await _h.SealAsync());
        var v = await _h.VerifyAsync();
        Assert.Empty(v.Lines);
        Assert.Equal((13L, 4L, 0L), (v.Events, v.Digests, v.Problems));
    }

    [Fact]
    public async Task An_event_in_no_digest_is_unsealed_only_once_two_seal_intervals_passed()
    {
        var e = Some.Event(time: _h.Now.AddSeconds(-30)) with { ReceivedAt = _h.Now.AddSeconds(-30) };
        await _h.Store.AppendAsync([e], TestContext.Current.CancellationToken);

        Assert.Empty((await _h.VerifyAsync()).Lines);
        _h.Now = _h.Now.AddMinutes(2);
        Assert.Equal([$"unsealed {e.Id}"], (await _h.VerifyAsync()).Lines);
    }

    [Fact]
    public async Task Events_a_digest_covers_that_retention_dropped_legitimately_are_not_missing()
    {
        _h.Now = new DateTimeOffset(2029, 1, 2, 0, 0, 0, TimeSpan.Zero);
        await _h.Store.ApplyRetentionAsync(_h.Now, TestContext.Current.CancellationToken);

        var v = await _h.VerifyAsync();

        Assert.Empty(v.Lines);
        Assert.Equal(0, v.Events);
    }

    [Fact]
    public async Task The_state_lost_after_a_digest_was_written_is_reconciled_from_the_directory_at_start()
    {
        await _h.RestartAsync(() => Directory.Delete(Path.Combine(_h.DataPath, "integrity"), recursive: true));
        await _h.AppendAsync(Some.Event(time: Some.BaseTime.AddHours(2)));
        await _h.SealAsync();

        var v = await _h.VerifyAsync(publicKeyPem: _h.Signer.PublicKeyPem);

        // The chain continues at 4 from the newest file; the old digests were signed by the lost key.
        Assert.True(File.Exists(Path.Combine(_h.DigestPath, "org_42", "000000000004.json")));
        Assert.Equal(["signature org_42 1", "signature org_42 2", "signature org_42 3"], v.Lines);
    }

    [Fact]
    public async Task A_range_checks_only_the_events_and_digests_it_meets()
    {
        _h.Sql(November, $"DROP TRIGGER events_no_delete; DELETE FROM events WHERE id = '{_ids[0]}';");

        var october = await _h.VerifyAsync(from: new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero), to: new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero));

        Assert.Empty(october.Lines);
        Assert.Equal((3L, 1L), (october.Events, october.Digests));
    }
}
