using System.Net;
using System.Text.Json;
using AuditPipeline.Api.Tests.Support;
using AuditPipeline.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Api.Tests;

/// <summary>Viewer tokens (contract section 10): minted by a key, bound to one organisation and the key's scopes, short-lived.</summary>
public sealed class ViewerTokenTests : IAsyncLifetime
{
    private static readonly string Events = $"/v1/orgs/{TestKeys.Org}/events";
    private static readonly string OtherEvents = $"/v1/orgs/{TestKeys.OtherOrg}/events";
    private ApiHost _host = null!;
    private readonly LogCapture _logs = new();

    public async ValueTask InitializeAsync()
    {
        _host = await ApiHost.StartAsync(configure: s =>
        {
            s.AddSingleton<ILoggerProvider>(_logs);
            s.Configure<LoggerFilterOptions>(o => o.MinLevel = LogLevel.Trace);
        });
        await _host.SeedAsync([Some.Event(orgId: TestKeys.Org), Some.AiEvent(orgId: TestKeys.Org), Some.Event(orgId: TestKeys.OtherOrg)]);
    }

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task A_minted_token_reads_its_organisation_and_expires_after_the_configured_minutes()
    {
        var (token, expiresAt) = await MintAsync(_host, TestKeys.Full, TestKeys.Org);

        Assert.Equal(_host.Time.Now.AddMinutes(15), expiresAt);
        var (items, _, _) = await Http.PageAsync(_host.Client(token), Events);
        Assert.Equal(2, items.Count);

        _host.Time.Advance(TimeSpan.FromMinutes(15) - TimeSpan.FromSeconds(1));
        using (var stillValid = await _host.Client(token).GetAsync(Events))
        {
            Assert.Equal(HttpStatusCode.OK, stillValid.StatusCode);
        }

        _host.Time.Advance(TimeSpan.FromSeconds(1));
        using var expired = await _host.Client(token).GetAsync(Events);
        await Http.ProblemAsync(expired, HttpStatusCode.Unauthorized);
        Assert.Equal("Bearer", expired.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task The_lifetime_follows_Api_ViewerTokenMinutes()
    {
        await using var host = await ApiHost.StartAsync(settings: new Dictionary<string, string?> { ["Api:ViewerTokenMinutes"] = "2" });
        var (token, expiresAt) = await MintAsync(host, TestKeys.Full, TestKeys.Org);

        Assert.Equal(host.Time.Now.AddMinutes(2), expiresAt);
        host.Time.Advance(TimeSpan.FromMinutes(2));
        using var expired = await host.Client(token).GetAsync(Events);
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("1441")]
    public async Task An_invalid_lifetime_stops_start_up_naming_the_key(string minutes)
    {
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var host = await ApiHost.StartAsync(settings: new Dictionary<string, string?> { ["Api:ViewerTokenMinutes"] = minutes });
        });

        Assert.Contains("Api:ViewerTokenMinutes must be between 1 and 1440", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_is_bound_to_the_organisation_it_was_minted_for_even_when_the_key_reaches_every_one()
    {
        var (token, _) = await MintAsync(_host, TestKeys.Service, TestKeys.Org);
        var client = _host.Client(token);

        var (items, _, _) = await Http.PageAsync(client, Events);
        Assert.All(items, e => Assert.Equal(TestKeys.Org, e.OrgId));

        using var foreign = await client.GetAsync(OtherEvents);
        using var keyMissing = await _host.Client(TestKeys.Full).GetAsync($"/v1/orgs/{TestKeys.Org}/events/evt_missing");
        var expected = await Http.ProblemAsync(keyMissing, HttpStatusCode.NotFound);
        var problem = await Http.ProblemAsync(foreign, HttpStatusCode.NotFound);
        Assert.Equal(expected.GetProperty("detail").GetString(), problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_key_mints_only_for_organisations_it_may_read_and_never_for_every_organisation()
    {
        using var foreign = await _host.Client(TestKeys.Full).PostAsync($"/v1/orgs/{TestKeys.OtherOrg}/viewer-tokens", null);
        using var star = await _host.Client(TestKeys.Service).PostAsync("/v1/orgs/*/viewer-tokens", null);
        using var anonymous = await _host.Client(key: null).PostAsync($"/v1/orgs/{TestKeys.Org}/viewer-tokens", null);

        await Http.ProblemAsync(foreign, HttpStatusCode.NotFound);
        await Http.ProblemAsync(star, HttpStatusCode.NotFound);
        await Http.ProblemAsync(anonymous, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_token_carries_exactly_the_scopes_of_the_key_that_minted_it()
    {
        var (reader, _) = await MintAsync(_host, TestKeys.Reader, TestKeys.Org);
        var (exporter, _) = await MintAsync(_host, TestKeys.Exporter, TestKeys.Org);

        using var readerList = await _host.Client(reader).GetAsync(Events);
        using var readerExport = await _host.Client(reader).PostAsync($"/v1/orgs/{TestKeys.Org}/exports", new StringContent("{}"));
        using var exporterList = await _host.Client(exporter).GetAsync(Events);
        using var exporterExport = await _host.Client(exporter).PostAsync($"/v1/orgs/{TestKeys.Org}/exports", new StringContent("{}"));

        Assert.Equal(HttpStatusCode.OK, readerList.StatusCode);
        Assert.Contains("audit:export", (await Http.ProblemAsync(readerExport, HttpStatusCode.Forbidden)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("audit:read", (await Http.ProblemAsync(exporterList, HttpStatusCode.Forbidden)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Accepted, exporterExport.StatusCode);
    }

    [Fact]
    public async Task An_export_requested_with_a_token_is_audited_under_the_minting_key()
    {
        var (token, _) = await MintAsync(_host, TestKeys.Full, TestKeys.Org);

        using var accepted = await _host.Client(token).PostAsync($"/v1/orgs/{TestKeys.Org}/exports", new StringContent("{}"));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);

        var audited = await WaitForAsync(async () =>
            (await Http.PageAsync(_host.Client(), $"{Events}?action=exported")).Items.FirstOrDefault());
        Assert.Equal("full", audited.Actor.Id);
    }

    [Fact]
    public async Task A_viewer_token_cannot_mint_another_one()
    {
        var (token, _) = await MintAsync(_host, TestKeys.Full, TestKeys.Org);

        using var response = await _host.Client(token).PostAsync($"/v1/orgs/{TestKeys.Org}/viewer-tokens", null);

        await Http.ProblemAsync(response, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Every_changed_character_of_a_token_makes_it_a_wrong_key()
    {
        var (token, _) = await MintAsync(_host, TestKeys.Full, TestKeys.Org);

        for (var i = 0; i < token.Length; i++)
        {
            var c = token[i] == 'A' ? 'B' : 'A';
            var tampered = string.Concat(token.AsSpan(0, i), new string(c, 1), token.AsSpan(i + 1));
            using var response = await _host.Client(tampered).GetAsync(Events);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"Changing character {i} gave {(int)response.StatusCode}");
        }

        foreach (var bad in new[] { token[..^1], token + "A", "avt_", "avt_!!!!", token.ToUpperInvariant() })
        {
            using var response = await _host.Client(bad).GetAsync(Events);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    [Fact]
    public async Task A_token_survives_a_restart_and_dies_with_a_rotation_of_its_key()
    {
        using var temp = new TempDirectory("api");
        var directory = temp.Path;
        var auditStore = TestStores.CreateTemp();
        using var owned = auditStore as IDisposable;
        await auditStore.AppendAsync([Some.Event(orgId: TestKeys.Org)], CancellationToken.None);
        string token;
        await using (var first = await ApiHost.StartAsync(auditStore, directory))
        {
            (token, _) = await MintAsync(first, TestKeys.Full, TestKeys.Org);
        }

        await using (var restarted = await ApiHost.StartAsync(auditStore, directory))
        {
            using var response = await restarted.Client(token).GetAsync(Events);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Key 0 is "full": a new secret for the same name revokes what the old one minted.
        var rotated = new Dictionary<string, string?> { ["Api:Keys:0:Sha256"] = TestKeys.Hash("a-new-secret") };
        await using (var afterRotation = await ApiHost.StartAsync(auditStore, directory, rotated))
        {
            using var response = await afterRotation.Client(token).GetAsync(Events);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        await using (var otherServer = await ApiHost.StartAsync(auditStore))
        {
            using var response = await otherServer.Client(token).GetAsync(Events);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    [Fact]
    public async Task A_token_is_never_written_to_the_logs()
    {
        var (token, _) = await MintAsync(_host, TestKeys.Full, TestKeys.Org);
        using (var ok = await _host.Client(token).GetAsync(Events))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using (var bad = await _host.Client(token + "x").GetAsync(Events))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, bad.StatusCode);
        }

        var body = token["avt_".Length..];
        Assert.NotEmpty(_logs.Messages);
        Assert.DoesNotContain(_logs.Messages, m => m.Contains(body[..20], StringComparison.Ordinal));
    }

    private static async Task<(string Token, DateTimeOffset ExpiresAt)> MintAsync(ApiHost host, string key, string org)
    {
        using var response = await host.Client(key).PostAsync($"/v1/orgs/{org}/viewer-tokens", null);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"Minting answered {(int)response.StatusCode}: {text}");
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var json = JsonDocument.Parse(text).RootElement;
        Assert.Equal(["token", "expiresAt"], json.EnumerateObject().Select(p => p.Name));
        Assert.EndsWith("Z", json.GetProperty("expiresAt").GetString(), StringComparison.Ordinal);
        return (json.GetProperty("token").GetString()!, json.GetProperty("expiresAt").GetDateTimeOffset());
    }

    private static async Task<T> WaitForAsync<T>(Func<Task<T?>> probe) =>
        (await Eventually.ValueAsync(probe, found => found is not null, TimeSpan.FromSeconds(20), "the probe to find something"))!;

    /// <summary>Every formatted log message of the host, at every level.</summary>
    private sealed class LogCapture : ILoggerProvider
    {
        private readonly List<string> _messages = [];

        public IReadOnlyList<string> Messages
        {
            get
            {
                lock (_messages)
                {
                    return [.. _messages];
                }
            }
        }

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(LogCapture owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull
            {
                owner.Add(state.ToString() ?? "");
                return null;
            }

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                owner.Add(formatter(state, exception) + " " + state + " " + exception);
            }
        }

        private void Add(string message)
        {
            lock (_messages)
            {
                _messages.Add(message);
            }
        }
    }
}
