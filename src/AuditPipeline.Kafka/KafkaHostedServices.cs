using AuditPipeline.Kafka.Plans;
using AuditPipeline.Kafka.Source;
using Microsoft.Extensions.Hosting;

namespace AuditPipeline.Kafka;

/// <summary>Runs the audit source's poll loop on its own thread; a stop drains in-flight messages and commits.</summary>
internal sealed class KafkaSourceService(KafkaAuditSource source) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _drain = new();
    private Task? _loop;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = Task.Factory.StartNew(() => source.Run(_stopping.Token, _drain.Token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_loop is null)
        {
            return;
        }

        // The drain (flush, commit, close) runs until done or until the host's stop deadline.
        using var deadline = cancellationToken.Register(_drain.Cancel);
        await _stopping.CancelAsync();
        await _loop.WaitAsync(cancellationToken).ContinueWith(static _ => { }, TaskScheduler.Default);
    }

    public void Dispose()
    {
        _stopping.Dispose();
        _drain.Dispose();
    }
}

/// <summary>Follows the plans topic on its own thread.</summary>
internal sealed class KafkaPlansService(KafkaPlansFollower follower) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = Task.Factory.StartNew(() => follower.Run(_stopping.Token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_loop is null)
        {
            return;
        }

        await _stopping.CancelAsync();
        await _loop.WaitAsync(cancellationToken).ContinueWith(static _ => { }, TaskScheduler.Default);
    }

    public void Dispose() => _stopping.Dispose();
}
