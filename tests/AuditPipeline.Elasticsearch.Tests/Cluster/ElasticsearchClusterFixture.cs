using System.Net;
using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Containers;
using Microsoft.Extensions.Logging.Abstractions;
using EsMethod = Elastic.Transport.HttpMethod;

namespace AuditPipeline.Elasticsearch.Tests.Cluster;

/// <summary>
/// A real single-node Elasticsearch (9.5 by default; set <c>AUDIT_ELASTICSEARCH_IMAGE</c>, e.g. to
/// <c>docker.elastic.co/elasticsearch/elasticsearch:8.19.5</c>, to run the suite on 8.x) in a
/// container (security off), set up with the production
/// templates and policies. Without a Docker engine it does not start, and every test using it
/// skips with the reason. Shared by a test class; other suites (the store contract suite) can use
/// it through <see cref="CreateStore"/>.
/// </summary>
public sealed class ElasticsearchClusterFixture : IAsyncLifetime
{
    public const string DefaultImage = "docker.elastic.co/elasticsearch/elasticsearch:9.5.7";

    public static string Image { get; } = Environment.GetEnvironmentVariable("AUDIT_ELASTICSEARCH_IMAGE") is { Length: > 0 } image ? image : DefaultImage;

    private IContainer? _container;

    /// <summary>Why the cluster is not there (no Docker engine, or it failed to start); null when it runs.</summary>
    public string? Unavailable { get; private set; }

    public string Url { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        if (!DockerLooksAvailable(out var reason))
        {
            Unavailable = reason;
            return;
        }

        try
        {
            _container = new ContainerBuilder(Image)
                .WithPortBinding(9200, assignRandomHostPort: true)
                .WithEnvironment("discovery.type", "single-node")
                .WithEnvironment("xpack.security.enabled", "false")
                .WithEnvironment("action.destructive_requires_name", "false")
                .WithEnvironment("indices.lifecycle.poll_interval", "1h")

                // Hardened, as some production clusters are: the store's queries must run without
                // prefix queries on keywords or ranges on event.id.
                .WithEnvironment("search.allow_expensive_queries", "false")
                .WithEnvironment("ES_JAVA_OPTS", "-Xms512m -Xmx512m")
                .WithWaitStrategy(Wait.ForUnixContainer().UntilHttpRequestIsSucceeded(r => r
                    .ForPort(9200)
                    .ForPath("/_cluster/health?wait_for_status=yellow&timeout=5s")
                    .ForStatusCode(HttpStatusCode.OK)))
                .Build();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await _container.StartAsync(timeout.Token);
            Url = $"http://{_container.Hostname}:{_container.GetMappedPublicPort(9200)}";
        }
        catch (Exception ex)
        {
            Unavailable = $"No Docker engine: the Elasticsearch container did not start ({ex.GetType().Name}: {ex.Message})";
            return;
        }

        using var output = new StringWriter();
        var code = await Setup().RunAsync(print: false, output, CancellationToken.None);
        if (code != 0)
        {
            throw new InvalidOperationException("Setup failed against the test cluster:\n" + output);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }
    }

    /// <summary>Skips the calling test, visibly, when there is no cluster.</summary>
    public void SkipIfUnavailable()
    {
        if (Unavailable is not null)
        {
            Assert.Skip(Unavailable);
        }
    }

    public ElasticsearchOptions Options() => new()
    {
        Url = Url,
        RefreshOnWrite = true,
        RetryMinDelay = TimeSpan.FromMilliseconds(50),
        RetryMaxDelay = TimeSpan.FromMilliseconds(200),
        StreamPageSize = 3,
    };

    /// <summary>A store on the test cluster; writes are refreshed so the next search sees them.</summary>
    public IAuditStore CreateStore(RetentionPlanRegistry? plans = null, TimeProvider? time = null) =>
        new ElasticsearchAuditStore(
            Connection(),
            plans ?? new RetentionPlanRegistry(Microsoft.Extensions.Options.Options.Create(new RetentionOptions())),
            Microsoft.Extensions.Options.Options.Create(Options()),
            NullLogger<ElasticsearchAuditStore>.Instance,
            time);

    public ElasticsearchSetup Setup() =>
        new(new ElasticsearchSetupDefinitions(7, 90, null), Connection, NullLogger<ElasticsearchSetup>.Instance);

    /// <summary>Deletes every audit index (the templates and policies stay).</summary>
    public async Task ResetAsync()
    {
        var response = await Connection().SendAsync(EsMethod.DELETE, "/audit-events-*?ignore_unavailable=true&allow_no_indices=true", null, CancellationToken.None);
        Assert.True(response.Success, response.Describe());
    }

    internal ElasticsearchConnection Connection() => new(ElasticsearchConnection.CreateClient(Options()));

    private static bool DockerLooksAvailable(out string reason)
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOCKER_HOST")))
        {
            reason = "";
            return true;
        }

        if (File.Exists("/var/run/docker.sock") || OperatingSystem.IsWindows())
        {
            reason = "";
            return true;
        }

        reason = "No Docker engine: DOCKER_HOST is not set and /var/run/docker.sock does not exist.";
        return false;
    }
}
