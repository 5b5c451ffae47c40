using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using AuditPipeline.Api.Tests.Support;
using AuditPipeline.Core.Integrity;
using Microsoft.Extensions.DependencyInjection;

namespace AuditPipeline.Api.Tests;

/// <summary>The integrity routes' contract: auth as every org route, the problems' JSON shape, 400s naming the parameter.</summary>
public sealed class IntegrityEndpointTests : IAsyncLifetime
{
    private readonly FakeCheck _check = new();
    private ApiHost _host = null!;

    public async ValueTask InitializeAsync() =>
        _host = await ApiHost.StartAsync(configure: s => s.AddSingleton<IIntegrityCheck>(_check));

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task The_check_answers_events_digests_and_problems_with_an_event_id_or_a_seq_never_both()
    {
        using var response = await _host.Client(TestKeys.Reader).GetAsync($"/v1/orgs/{TestKeys.Org}/integrity?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00%2B00:00");
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal((TestKeys.Org, new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero)), _check.Asked);
        Assert.Equal(12, body.GetProperty("events").GetInt64());
        Assert.Equal(3, body.GetProperty("digests").GetInt64());
        var problems = body.GetProperty("problems").EnumerateArray().ToList();
        Assert.Equal("""{"kind":"missing","eventId":"evt_1","detail":"gone"}""", problems[0].GetRawText());
        Assert.Equal("""{"kind":"chain","seq":2,"detail":"digest 2 is missing"}""", problems[1].GetRawText());
    }

    [Fact]
    public async Task Another_organisations_key_gets_404_and_a_key_without_read_gets_403()
    {
        using var other = await _host.Client(TestKeys.Other).GetAsync($"/v1/orgs/{TestKeys.Org}/integrity");
        using var digests = await _host.Client(TestKeys.Other).GetAsync($"/v1/orgs/{TestKeys.Org}/digests");
        using var exporter = await _host.Client(TestKeys.Exporter).GetAsync($"/v1/orgs/{TestKeys.Org}/integrity");
        using var none = await _host.Client(key: null).GetAsync($"/v1/orgs/{TestKeys.Org}/integrity");

        await Http.ProblemAsync(other, HttpStatusCode.NotFound);
        await Http.ProblemAsync(digests, HttpStatusCode.NotFound);
        await Http.ProblemAsync(exporter, HttpStatusCode.Forbidden);
        await Http.ProblemAsync(none, HttpStatusCode.Unauthorized);
        Assert.Null(_check.Asked);
    }

    [Theory]
    [InlineData("from=yesterday", "from")]
    [InlineData("to=2026-13-01", "to")]
    [InlineData("from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", "from")]
    [InlineData("from=2026-11-01T00:00:00Z&from=2026-11-02T00:00:00Z", "from")]
    public async Task Bad_dates_are_400_naming_the_parameter(string query, string parameter)
    {
        using var check = await _host.Client().GetAsync($"/v1/orgs/{TestKeys.Org}/integrity?{query}");
        using var digests = await _host.Client().GetAsync($"/v1/orgs/{TestKeys.Org}/digests?{query}");

        await Http.BadRequestAsync(check, parameter);
        await Http.BadRequestAsync(digests, parameter);
    }

    [Fact]
    public async Task The_digests_are_one_JSON_array_of_the_canonical_documents_and_the_public_key_needs_no_key()
    {
        using var response = await _host.Client().GetAsync($"/v1/orgs/{TestKeys.Org}/digests");
        using var key = await _host.Client(key: null).GetAsync("/v1/integrity/public-key");

        var array = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(2, array.GetArrayLength());
        Assert.Equal(DigestCodec.Encode(FakeCheck.Digest(1)), JsonSerializer.SerializeToUtf8Bytes(array[0]));
        Assert.Equal(HttpStatusCode.OK, key.StatusCode);
        Assert.Equal("application/x-pem-file", key.Content.Headers.ContentType?.MediaType);
        Assert.Equal(FakeCheck.Pem, await key.Content.ReadAsStringAsync());
    }

    private sealed class FakeCheck : IIntegrityCheck
    {
        public const string Pem = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";

        public (string Org, DateTimeOffset? From, DateTimeOffset? To)? Asked { get; private set; }

        public string PublicKeyPem => Pem;

        public static Digest Digest(long seq) => new()
        {
            OrgId = TestKeys.Org,
            Seq = seq,
            SealedAt = new DateTimeOffset(2026, 11, 30, 10, 0, 0, TimeSpan.Zero),
            Entries = [new DigestEntry($"evt_{seq}", new DateTimeOffset(2026, 11, 30, 9, 0, 0, TimeSpan.Zero), new string('a', 64))],
            MerkleRoot = new string('b', 64),
            KeyId = new string('c', 32),
            Signature = "c2ln",
        };

        public Task<IntegrityReport> CheckAsync(string orgId, DateTimeOffset? from, DateTimeOffset? to, int maxProblems, CancellationToken cancellationToken)
        {
            Asked = (orgId, from, to);
            return Task.FromResult(new IntegrityReport(12, 3,
                [
                    new IntegrityProblem(IntegrityProblem.Missing, orgId, "evt_1", null, "gone"),
                    new IntegrityProblem(IntegrityProblem.Chain, orgId, null, 2, "digest 2 is missing"),
                ],
                2));
        }

        public async IAsyncEnumerable<Digest> DigestsAsync(string orgId, DateTimeOffset? from, DateTimeOffset? to, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Yield();
            yield return Digest(1);
            yield return Digest(2);
        }
    }
}
