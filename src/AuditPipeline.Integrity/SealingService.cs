using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AuditPipeline.Integrity;

/// <summary>
/// Seals every <c>Integrity:SealInterval</c> and once more on graceful stop. Registered before the
/// ingest pipeline, so it stops after the pipeline has drained: the last batch is in the last digest.
/// </summary>
internal sealed partial class SealingService(DigestSealer sealer, IntegrityKeyInfo key, IntegrityOptions options, TimeProvider time, ILogger<SealingService> logger)
    : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (key.Generated)
        {
            LogKeyGenerated(key.KeyId, key.Path);
        }
        else
        {
            LogKey(key.KeyId, key.Path);
        }

        sealer.Reconcile();
        _loop = Task.Run(() => LoopAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }

        try
        {
            var n = await sealer.SealAsync(cancellationToken);
            LogFinalSeal(n);
        }
        catch (Exception ex)
        {
            LogSealFailed(ex);
        }
    }

    public void Dispose() => _stopping.Dispose();

    private async Task LoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(options.SealInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                try
                {
                    await sealer.SealAsync(ct);
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    LogSealFailed(ex);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Generated a digest signing key {KeyId} at {Path}; keep it safe, and give its public key to auditors")]
    private partial void LogKeyGenerated(string keyId, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Digests are signed with key {KeyId} from {Path}")]
    private partial void LogKey(string keyId, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sealed {Count} digests on stop")]
    private partial void LogFinalSeal(int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sealing digests failed; pending events are sealed on the next round")]
    private partial void LogSealFailed(Exception ex);
}

/// <summary>The signing key's id and where it came from.</summary>
internal sealed record IntegrityKeyInfo(string KeyId, string Path, bool Generated);
