using System.Net.Http.Headers;
using AuditPipeline.Api.Notifications;
using AuditPipeline.Core.Ingest;
using AuditPipeline.Core.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AuditPipeline.Api.Tests.Support;

/// <summary>
/// The facade on a test server: <c>AddAuditApi</c> + <c>MapAuditApi</c> over a store, an ingest queue that
/// appends straight to it, and a clock the test controls. Exports live in a fresh directory unless one
/// is given (a second host on the same directory is a restart).
/// </summary>
public sealed class ApiHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    // What the host made for itself (no store or directory given) it also cleans up.
    private bool _ownsStore;
    private bool _ownsDirectory;

    private ApiHost(WebApplication app, IAuditStore store, string directory, ManualTimeProvider time, StoreIngestQueue queue)
    {
        _app = app;
        Store = store;
        Directory = directory;
        Time = time;
        Queue = queue;
    }

    public static DateTimeOffset DefaultNow { get; } = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    public IAuditStore Store { get; }

    public string Directory { get; }

    public ManualTimeProvider Time { get; }

    public StoreIngestQueue Queue { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>The test server itself, for requests no HttpClient can send (raw lone surrogates in the path or query).</summary>
    public TestServer Server => _app.GetTestServer();

    public static async Task<ApiHost> StartAsync(
        IAuditStore? store = null,
        string? directory = null,
        IDictionary<string, string?>? settings = null,
        ManualTimeProvider? time = null,
        HttpMessageHandler? webhookHandler = null,
        Action<IServiceCollection>? configure = null)
    {
        var ownsDirectory = directory is null;
        var ownsStore = store is null;
        directory ??= Path.Combine(Path.GetTempPath(), "auditpipeline-api-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        store ??= TestStores.Create(directory);
        time ??= new ManualTimeProvider(DefaultNow);

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        var config = TestKeys.Configuration();
        config["Exports:Path"] = Path.Combine(directory, "exports");
        config["Exports:NotificationRetryDelay"] = "00:00:00.010";
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>())
        {
            config[k] = v;
        }

        builder.Configuration.AddInMemoryCollection(config);
        var queue = new StoreIngestQueue(store);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton<IIngestQueue>(queue);
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddAuditApi(builder.Configuration);
        if (webhookHandler is not null)
        {
            builder.Services.AddHttpClient(WebhookNotificationChannel.ClientName).ConfigurePrimaryHttpMessageHandler(() => webhookHandler);
        }

        configure?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapAuditApi();
        await app.StartAsync();
        return new ApiHost(app, store, directory, time, queue) { _ownsStore = ownsStore, _ownsDirectory = ownsDirectory && ownsStore };
    }

    /// <summary>A client that sends <c>Authorization: Bearer {key}</c> (none when null).</summary>
    public HttpClient Client(string? key = TestKeys.Full)
    {
        var client = _app.GetTestClient();
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return client;
    }

    public async Task SeedAsync(IEnumerable<Core.Events.AuditEvent> events)
    {
        var list = events.ToList();
        for (var i = 0; i < list.Count; i += 5000)
        {
            await Store.AppendAsync(list.GetRange(i, Math.Min(5000, list.Count - i)), CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
        if (_ownsStore && Store is IDisposable disposable)
        {
            disposable.Dispose();
        }

        if (_ownsDirectory)
        {
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (IOException)
            {
                // A file still held open; the temp folder is cleaned by the OS eventually.
            }
        }
    }
}

/// <summary>Answers webhook POSTs with a scripted sequence of status codes and records what it received.</summary>
public sealed class RecordingHandler(params System.Net.HttpStatusCode[] answers) : HttpMessageHandler
{
    private int _calls;

    public List<(HttpRequestMessage Request, byte[] Body)> Received { get; } = [];

    public TaskCompletionSource Delivered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        var n = Interlocked.Increment(ref _calls) - 1;
        var status = n < answers.Length ? answers[n] : System.Net.HttpStatusCode.OK;
        lock (Received)
        {
            Received.Add((request, body));
        }

        if ((int)status < 300)
        {
            Delivered.TrySetResult();
        }

        return new HttpResponseMessage(status);
    }
}
