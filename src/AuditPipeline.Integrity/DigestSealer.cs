using AuditPipeline.Core.Integrity;
using Microsoft.Extensions.Logging;

namespace AuditPipeline.Integrity;

/// <summary>
/// Seals what is pending, then delivers the outbox: the digest file first (the copy verification
/// trusts), then every sink. A digest leaves the outbox only once all took it, so a failing sink
/// (Kafka down) is retried on the next round and never holds sealing back.
/// </summary>
internal sealed partial class DigestSealer(
    IntegrityState state,
    DigestSigner signer,
    DigestDirectory directory,
    IEnumerable<IDigestSink> sinks,
    IntegrityOptions options,
    TimeProvider time,
    ILogger<DigestSealer> logger)
{
    private readonly IDigestSink[] _sinks = [.. sinks];
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>
    /// Start-up: the public key beside the digests, and any digest the directory holds beyond the
    /// state's chain head adopted (the chain always continues from the newest digest written).
    /// </summary>
    public void Reconcile()
    {
        directory.WritePublicKey(signer.PublicKeyPem);
        foreach (var folder in directory.Folders())
        {
            var files = directory.Files(folder);
            if (files.Count == 0)
            {
                continue;
            }

            Digest latest;
            try
            {
                latest = DigestCodec.Decode(File.ReadAllBytes(files[^1].Path));
            }
            catch (FormatException ex)
            {
                LogUnreadable(files[^1].Path, ex.Message);
                continue;
            }

            var head = state.Head(latest.OrgId)?.Seq ?? 0;
            foreach (var (seq, path) in files.Where(f => f.Seq > head))
            {
                try
                {
                    var d = DigestCodec.Decode(File.ReadAllBytes(path));
                    state.Adopt(d);
                    LogAdopted(d.OrgId, d.Seq);
                }
                catch (FormatException ex)
                {
                    LogUnreadable(path, ex.Message);
                }
            }
        }
    }

    /// <summary>One round: every organisation with pending events gets its digests; then the outbox is delivered.</summary>
    public async Task<int> SealAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            // This round's digests are delivered from memory; the outbox's copies are decoded only for
            // digests an earlier round (or run) could not deliver.
            var fresh = new Dictionary<(string, long), Digest>();
            foreach (var org in state.OrgsWithPending())
            {
                while (state.Seal(org, options.MaxEntriesPerDigest, time.GetUtcNow(), signer) is { } d)
                {
                    fresh[(d.OrgId, d.Seq)] = d;
                    LogSealed(d.OrgId, d.Seq, d.Count);
                    if (d.Count < options.MaxEntriesPerDigest)
                    {
                        break;
                    }
                }
            }

            await DeliverAsync(fresh, cancellationToken);
            var pruned = state.Prune(time.GetUtcNow() - options.PruneAfter);
            if (pruned > 0)
            {
                LogPruned(pruned, options.PruneAfter);
            }

            return fresh.Count;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task DeliverAsync(Dictionary<(string, long), Digest> fresh, CancellationToken cancellationToken)
    {
        foreach (var (org, seq, body) in state.Outbox())
        {
            var digest = fresh.TryGetValue((org, seq), out var d) ? d : DigestCodec.Decode(body);
            if (!directory.Write(digest, body))
            {
                // Never overwritten: a different file under this seq means two sealers share a chain.
                LogConflict(org, seq, directory.FileFor(org, seq));
                continue;
            }

            var all = true;
            foreach (var sink in _sinks)
            {
                try
                {
                    await sink.PublishAsync(digest, body, cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    all = false;
                    LogSinkFailed(ex, sink.Name, org, seq);
                }
            }

            if (all)
            {
                state.Delivered(org, seq);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sealed digest {Seq} of {OrgId} covering {Count} events")]
    private partial void LogSealed(string orgId, long seq, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Forgot {Count} entries of digests delivered more than {PruneAfter} ago")]
    private partial void LogPruned(long count, TimeSpan pruneAfter);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Adopted digest {Seq} of {OrgId} from the digest directory; the integrity state was behind it")]
    private partial void LogAdopted(string orgId, long seq);

    [LoggerMessage(Level = LogLevel.Error, Message = "The digest file {Path} cannot be read ({Reason}); it is left as it is")]
    private partial void LogUnreadable(string path, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Digest {Seq} of {OrgId} differs from the file already at {Path}; it is not overwritten. Is another process sealing this chain?")]
    private partial void LogConflict(string orgId, long seq, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The digest sink {Sink} did not take digest {Seq} of {OrgId}; it is retried on the next round")]
    private partial void LogSinkFailed(Exception ex, string sink, string orgId, long seq);
}
