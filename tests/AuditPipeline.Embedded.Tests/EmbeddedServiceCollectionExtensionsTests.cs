using AuditPipeline.Core.Storage;
using AuditPipeline.Embedded.Inbox;
using AuditPipeline.Embedded.Storage;
using AuditPipeline.Embedded.Tests.Support;
using AuditPipeline.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Embedded.Tests;

public sealed class EmbeddedServiceCollectionExtensionsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task The_embedded_store_is_registered_with_its_retention_job_and_a_ready_check()
    {
        using var host = Build(new() { ["Store:Embedded:Path"] = _dir.Path });

        var store = host.Services.GetRequiredService<IAuditStore>();
        var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Tags.Contains("ready"), TestContext.Current.CancellationToken);

        Assert.IsType<SqliteAuditStore>(store);
        Assert.Contains(host.Services.GetServices<IHostedService>(), s => s.GetType().Name == "RetentionService");
        Assert.Equal(HealthStatus.Healthy, health.Status);
        Assert.Single(health.Entries);
        Assert.True(File.Exists(Path.Combine(_dir.Path, SqliteAuditStore.CatalogFileName)));
    }

    [Fact]
    public void An_empty_store_path_stops_start_up_with_a_message_naming_the_key()
    {
        using var host = Build(new() { ["Store:Embedded:Path"] = " " });

        var ex = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<EmbeddedStoreOptions>>().Value);

        Assert.Contains("Store:Embedded:Path", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_retention_value_stops_the_embedded_store_naming_its_key()
    {
        // The store registers Retention itself when nothing else did; it validates it the same way.
        using var host = Build(new() { ["Store:Embedded:Path"] = _dir.Path, ["Retention:ArchiveAfterDays"] = "0" });

        var ex = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<Core.Retention.RetentionOptions>>().Value);

        Assert.Contains("Retention:ArchiveAfterDays must be at least 1 (was 0).", ex.Failures);
    }

    [Fact]
    public void The_inbox_source_is_only_registered_when_its_path_is_set()
    {
        using var without = Build(new() { ["Store:Embedded:Path"] = _dir.Path });
        using var with = Build(new() { ["Store:Embedded:Path"] = Path.Combine(_dir.Path, "other"), ["Inbox:Path"] = Path.Combine(_dir.Path, "inbox") });

        Assert.DoesNotContain(without.Services.GetServices<IHostedService>(), s => s is InboxSource);
        Assert.Contains(with.Services.GetServices<IHostedService>(), s => s is InboxSource);
    }

    [Fact]
    public void A_non_positive_inbox_poll_interval_stops_start_up_with_a_message_naming_the_key()
    {
        using var host = Build(new() { ["Store:Embedded:Path"] = _dir.Path, ["Inbox:Path"] = _dir.Path, ["Inbox:PollInterval"] = "00:00:00" });

        var ex = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<InboxOptions>>().Value);

        Assert.Contains("Inbox:PollInterval", ex.Message, StringComparison.Ordinal);
    }

    private static IHost Build(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSingleton<Core.Ingest.IIngestQueue>(new RecordingQueue());
        builder.Services.AddEmbeddedStore(builder.Configuration);
        builder.Services.AddInboxSource(builder.Configuration);
        return builder.Build();
    }
}
