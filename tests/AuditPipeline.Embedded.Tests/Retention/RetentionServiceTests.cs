using System.Runtime.CompilerServices;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using AuditPipeline.Embedded.Retention;
using AuditPipeline.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Embedded.Tests.Retention;

public sealed class RetentionServiceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Retention_runs_at_start_and_again_after_a_failed_run()
    {
        var store = new RetentionRecordingStore { FailFirst = true };
        using var service = new RetentionService(
            store,
            Options.Create(new RetentionOptions { Interval = TimeSpan.FromMilliseconds(20) }),
            NullLogger<RetentionService>.Instance);

        await service.StartAsync(Ct);
        await Eventually.TrueAsync(() => store.Calls >= 2, TimeSpan.FromSeconds(20), () => $"retention ran {store.Calls} times");

        await service.StopAsync(Ct);

        Assert.True(store.Calls >= 2);
        Assert.True(service.Runs >= 2);
    }

    /// <summary>Counts retention calls; the first may throw.</summary>
    private sealed class RetentionRecordingStore : IAuditStore
    {
        private int _calls;

        public bool FailFirst { get; init; }

        public int Calls => Volatile.Read(ref _calls);

        public Task<RetentionReport> ApplyRetentionAsync(DateTimeOffset now, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _calls) == 1 && FailFirst)
            {
                throw new StoreUnavailableException("down for the first run");
            }

            return Task.FromResult(new RetentionReport(["events-p2y-2020-01"], []));
        }

        public Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<AuditEvent> events, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public Task<AuditEvent?> GetAsync(string orgId, string eventId, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public Task<AuditPage> QueryAsync(AuditQuery query, int limit, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public async IAsyncEnumerable<AuditEvent> StreamAsync(AuditQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.CompletedTask;
            yield break;
        }

        public Task<bool> IsReadyAsync(CancellationToken cancellationToken) => Task.FromResult(true);
    }
}
