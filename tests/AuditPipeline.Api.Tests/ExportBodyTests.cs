using System.Net;
using System.Text;
using AuditPipeline.Api.Tests.Support;

namespace AuditPipeline.Api.Tests;

/// <summary>Every malformed export body is a 4xx problem that says what is wrong; none reaches the store or a 500.</summary>
public sealed class ExportBodyTests(SeededHost seeded) : IClassFixture<SeededHost>
{
    private static string Exports => $"/v1/orgs/{TestKeys.Org}/exports";

    [Theory]
    [InlineData("""{"\ud800":["x"]}""")]
    [InlineData("""{"act\udc00ion":["x"]}""")]
    [InlineData("""{"action":["\ud800"]}""")]
    [InlineData("""{"q":"ana \udfff"}""")]
    [InlineData("""{"x":{"\ud83d":1}}""")]
    public async Task An_unpaired_surrogate_in_a_member_name_or_value_is_a_400_naming_the_body(string body)
    {
        using var response = await Post(body);

        var problem = await Http.BadRequestAsync(response, "body");
        Assert.Contains("surrogate", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_nested_deeper_than_16_levels_is_a_400_naming_the_limit()
    {
        using var response = await Post("{\"x\":" + new string('[', 16) + new string(']', 16) + "}");

        var problem = await Http.BadRequestAsync(response, "body");
        Assert.Contains("16 levels", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_nested_thousands_deep_is_a_400_too()
    {
        using var response = await Post(new string('[', 100_000 / 2));

        await Http.BadRequestAsync(response, "body");
    }

    [Fact]
    public async Task A_body_over_64_KiB_is_a_413_naming_the_limit()
    {
        using var response = await Post("{\"q\":\"" + new string('a', 70_000) + "\"}");

        var problem = await Http.ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("65536 bytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_over_the_limit_without_a_content_length_is_a_413_too()
    {
        using var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("{\"q\":\"" + new string('a', 70_000) + "\"}")));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, Exports) { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await seeded.Host.Client().SendAsync(request);

        await Http.ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Theory]
    [InlineData("""{"action":5}""", "action")]
    [InlineData("""{"action":{"a":1}}""", "action")]
    [InlineData("""{"ai":"yes"}""", "ai")]
    [InlineData("""{"range":30}""", "range")]
    [InlineData("""{"q":["ana"]}""", "q")]
    [InlineData("""[]""", "body")]
    [InlineData("\"deleted\"", "body")]
    [InlineData("""{"action":["deleted"]} {}""", "body")]
    [InlineData("""{"action":["deleted"]}x""", "body")]
    [InlineData("""{"action":["deleted"],}""", "body")]
    [InlineData("""{"action":["deleted"] /* c */}""", "body")]
    [InlineData("""{'action':'deleted'}""", "body")]
    public async Task A_body_of_the_wrong_shape_is_a_400_naming_the_member(string body, string member)
    {
        using var response = await Post(body);

        await Http.BadRequestAsync(response, member);
    }

    [Fact]
    public async Task Invalid_utf8_bytes_are_a_400_naming_the_body()
    {
        using var content = new ByteArrayContent([.. "{\"action\":[\""u8, 0xED, 0xA0, 0x80, .. "\"]}"u8]);
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json");

        using var response = await seeded.Host.Client().PostAsync(Exports, content);

        await Http.BadRequestAsync(response, "body");
    }

    [Theory]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData("application/json; charset=utf-16")]
    [InlineData("text/plain; charset=iso-8859-1")]
    public async Task A_body_that_cannot_be_utf8_json_text_is_a_415_problem(string contentType)
    {
        using var content = new ByteArrayContent("{}"u8.ToArray());
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        using var response = await seeded.Host.Client().PostAsync(Exports, content);

        var problem = await Http.ProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
        Assert.Contains("application/json", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("text/plain; charset=utf-8", TestKeys.Full)]
    [InlineData("application/x-www-form-urlencoded", TestKeys.Exporter)]
    [InlineData("not a media type", TestKeys.Service)]
    public async Task A_json_body_is_read_whatever_type_curl_or_a_client_library_declares(string contentType, string key)
    {
        // One key each: a key may have only Exports:MaxActivePerKey exports queued or running.
        using var content = new ByteArrayContent("{\"action\":[\"deleted\"]}"u8.ToArray());
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        using var response = await seeded.Host.Client(key).PostAsync(Exports, content);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    public async Task A_body_of_another_type_that_is_not_json_is_a_400_naming_the_body(string contentType)
    {
        using var content = new ByteArrayContent("action=deleted"u8.ToArray());
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        using var response = await seeded.Host.Client().PostAsync(Exports, content);

        await Http.BadRequestAsync(response, "body");
    }

    [Theory]
    [InlineData("application/json", TestKeys.Full)]
    [InlineData("application/json; charset=utf-8", TestKeys.Exporter)]
    [InlineData("application/merge-patch+json", TestKeys.Service)]
    public async Task A_json_body_with_a_bom_is_accepted(string contentType, string key)
    {
        using var content = new ByteArrayContent([0xEF, 0xBB, 0xBF, .. "{\"action\":[\"deleted\"]}"u8]);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        using var response = await seeded.Host.Client(key).PostAsync(Exports, content);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private Task<HttpResponseMessage> Post(string body) =>
        seeded.Host.Client().PostAsync(Exports, new StringContent(body, Encoding.UTF8, "application/json"));
}
