using AuditPipeline.Core.Events;

namespace AuditPipeline.Api.Tests.Support;

/// <summary>One host with a generated data set, shared by the tests of a class that only read.</summary>
public sealed class SeededHost : IAsyncLifetime
{
    public const int Count = 1500;

    public ApiHost Host { get; private set; } = null!;

    public List<AuditEvent> Events { get; } = Dataset.Generate(Count);

    public async ValueTask InitializeAsync()
    {
        Host = await ApiHost.StartAsync();
        await Host.SeedAsync(Events);
    }

    public async ValueTask DisposeAsync() => await Host.DisposeAsync();
}
