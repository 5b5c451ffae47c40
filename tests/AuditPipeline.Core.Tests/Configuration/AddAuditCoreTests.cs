using AuditPipeline.Core.Ingest;
using AuditPipeline.Core.Normalization;
using AuditPipeline.Core.Storage;
using AuditPipeline.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Core.Tests.Configuration;

/// <summary>Core's own composition: what the worker, the Kafka tests and the benchmarks all build on.</summary>
public sealed class AddAuditCoreTests
{
    [Theory]
    [InlineData("Ingest:BatchSize", "0", "Ingest:BatchSize must be 1 to 100000 (was 0).")]
    [InlineData("Ingest:ChannelCapacity", "0", "Ingest:ChannelCapacity must be at least 1 (was 0).")]
    [InlineData("Ingest:RetryMin", "00:00:00", "Ingest:RetryMin must be positive and Ingest:RetryMax at least RetryMin.")]
    [InlineData("MaxMessageBytes", "0", "Ingest:MaxMessageBytes must be positive (was 0).")]
    [InlineData("Retention:DefaultPlan", "gold", "Retention:DefaultPlan must be 'professional' or 'enterprise' (was 'gold').")]
    [InlineData("Retention:Orgs:org_1:Years", "9", "Retention:Orgs:org_1:Years must be 2 or absent for a professional plan (was 9).")]
    [InlineData("Retention:Interval", "00:00:00", "Retention:Interval must be positive (was 00:00:00).")]
    public async Task A_bad_value_stops_start_up_with_a_message_naming_its_key(string key, string value, string expected)
    {
        using var host = Build(new() { [key] = value });

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains(expected, ex.Failures);
    }

    [Fact]
    public async Task The_top_level_MaxMessageBytes_overrides_the_Ingest_section_and_the_pipeline_starts()
    {
        using var host = Build(new() { ["Ingest:MaxMessageBytes"] = "2048", ["MaxMessageBytes"] = "4096" });

        await host.StartAsync(TestContext.Current.CancellationToken);
        var ingest = host.Services.GetRequiredService<IOptions<IngestOptions>>().Value;
        var queue = host.Services.GetRequiredService<IIngestQueue>();
        await host.StopAsync(TestContext.Current.CancellationToken);

        Assert.Equal(4096, ingest.MaxMessageBytes);
        Assert.Same(host.Services.GetRequiredService<IngestPipeline>(), queue);
        Assert.NotNull(host.Services.GetRequiredService<AuditNormalizer>());
    }

    [Fact]
    public void A_clock_registered_before_keeps_its_place()
    {
        var clock = new FixedClock();
        var services = new ServiceCollection().AddSingleton<TimeProvider>(clock);

        services.AddAuditCore(new ConfigurationBuilder().Build());

        Assert.Same(clock, services.BuildServiceProvider().GetRequiredService<TimeProvider>());
    }

    private static IHost Build(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSingleton<IAuditStore>(new InMemoryAuditStore());
        builder.Services.AddAuditCore(builder.Configuration);
        return builder.Build();
    }

    private sealed class FixedClock : TimeProvider;
}
