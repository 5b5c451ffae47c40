using AuditPipeline.Core.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Elasticsearch.Tests;

public sealed class ConfigurationTests
{
    private static IHost Build(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddLogging();
        builder.Services.AddElasticsearchStore(builder.Configuration);
        return builder.Build();
    }

    [Theory]
    [InlineData(null, null, null, null, "Elasticsearch:Url must be set")]
    [InlineData("elasticsearch:9200", null, null, null, "Elasticsearch:Url must be an absolute http or https address")]
    [InlineData("http://es:9200", "key", "audit_writer", "pw", "Elasticsearch:ApiKey and Elasticsearch:Username are both set")]
    [InlineData("http://es:9200", null, "audit_writer", null, "Elasticsearch:Password must be set")]
    [InlineData("http://es:9200", null, null, "pw", "Elasticsearch:Username must be set")]
    public async Task Invalid_settings_stop_start_up_with_a_message_naming_the_key(string? url, string? apiKey, string? user, string? password, string expected)
    {
        using var host = Build(new()
        {
            ["Elasticsearch:Url"] = url,
            ["Elasticsearch:ApiKey"] = apiKey,
            ["Elasticsearch:Username"] = user,
            ["Elasticsearch:Password"] = password,
        });

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains(ex.Failures, f => f.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Valid_settings_give_an_Elasticsearch_store_and_a_ready_health_check()
    {
        using var host = Build(new() { ["Elasticsearch:Url"] = "http://es:9200", ["Elasticsearch:Username"] = "audit_writer", ["Elasticsearch:Password"] = "pw" });

        Assert.IsType<ElasticsearchAuditStore>(host.Services.GetRequiredService<IAuditStore>());
        var checks = host.Services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations;
        Assert.Contains(checks, c => c.Name == "elasticsearch" && c.Tags.Contains("ready"));
    }

    [Fact]
    public async Task Setup_print_needs_no_cluster_settings_and_reads_the_retention_section()
    {
        using var host = Build(new() { ["Retention:LateArrivalDays"] = "10", ["Elasticsearch:SnapshotRepository"] = "archive" });
        using var output = new StringWriter();

        var code = await host.Services.GetRequiredService<ElasticsearchSetup>().RunAsync(print: true, output, TestContext.Current.CancellationToken);

        Assert.Equal(0, code);
        Assert.Contains("\"min_age\": \"41d\"", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("\"snapshot_repository\": \"archive\"", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Setup_against_a_cluster_without_a_url_fails_naming_the_key()
    {
        using var host = Build([]);
        using var output = new StringWriter();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            host.Services.GetRequiredService<ElasticsearchSetup>().RunAsync(print: false, output, TestContext.Current.CancellationToken));

        Assert.Contains("Elasticsearch:Url", ex.Message, StringComparison.Ordinal);
    }
}
