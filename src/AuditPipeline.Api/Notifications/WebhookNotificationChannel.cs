using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using AuditPipeline.Api.Exports;
using AuditPipeline.Core.Notifications;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Api.Notifications;

/// <summary>
/// POSTs the notification's JSON body to <c>Exports:WebhookUrl</c> with
/// <c>Content-Type: application/json</c> and
/// <c>X-Audit-Signature: sha256=&lt;lower-case hex HMAC-SHA256(key = UTF-8 bytes of Exports:WebhookSecret, message = the exact body bytes)&gt;</c>.
/// A receiver recomputes the HMAC over the raw body it received and compares in constant time.
/// Any non-2xx answer is a failure, retried by the caller.
/// </summary>
internal sealed class WebhookNotificationChannel(IHttpClientFactory clients, IOptions<ExportOptions> options) : INotificationChannel
{
    public const string ClientName = "AuditPipeline.ExportWebhook";
    public const string SignatureHeader = "X-Audit-Signature";

    public string Name => "webhook";

    public static string Sign(string secret, ReadOnlySpan<byte> body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    public async Task PublishAsync(string orgId, ReadOnlyMemory<byte> jsonBody, CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (string.IsNullOrEmpty(o.WebhookUrl) || string.IsNullOrEmpty(o.WebhookSecret))
        {
            return;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, o.WebhookUrl)
        {
            Content = new ReadOnlyMemoryContent(jsonBody),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.TryAddWithoutValidation(SignatureHeader, Sign(o.WebhookSecret, jsonBody.Span));
        var client = clients.CreateClient(ClientName);
        using var response = await client.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"The export webhook answered {(int)response.StatusCode}.", null, response.StatusCode);
        }
    }
}
