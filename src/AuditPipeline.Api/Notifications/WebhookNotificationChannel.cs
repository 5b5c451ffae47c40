using System.Globalization;
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
/// <c>X-Audit-Signature: t=&lt;unix seconds&gt;,v1=&lt;lower-case hex HMAC-SHA256(key = UTF-8 bytes of Exports:WebhookSecret, message = "&lt;t&gt;." + the exact body bytes)&gt;</c>.
/// A receiver recomputes the HMAC over <c>t</c>, a dot and the raw body it received, compares in
/// constant time, and refuses a <c>t</c> too far from its own clock (a replay). The timestamp is part of
/// what is signed, so it cannot be moved without the secret. Any non-2xx answer is a failure, retried by
/// the caller; redirects are not followed (the client is built with <c>AllowAutoRedirect = false</c>),
/// so a 3xx is a failure too and the signed body never reaches another address.
/// </summary>
internal sealed class WebhookNotificationChannel(IHttpClientFactory clients, IOptions<ExportOptions> options, TimeProvider time) : INotificationChannel
{
    public const string ClientName = "AuditPipeline.ExportWebhook";
    public const string SignatureHeader = "X-Audit-Signature";

    public string Name => "webhook";

    /// <summary>The header value for a body sent at <paramref name="unixSeconds"/>.</summary>
    public static string Sign(string secret, long unixSeconds, ReadOnlySpan<byte> body)
    {
        var t = unixSeconds.ToString(CultureInfo.InvariantCulture);
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret));
        hmac.AppendData(Encoding.ASCII.GetBytes(t + "."));
        hmac.AppendData(body);
        return $"t={t},v1={Convert.ToHexStringLower(hmac.GetHashAndReset())}";
    }

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

        // Signed per attempt: a retry carries a fresh timestamp, so a receiver's replay window stays short.
        request.Headers.TryAddWithoutValidation(SignatureHeader, Sign(o.WebhookSecret, time.GetUtcNow().ToUnixTimeSeconds(), jsonBody.Span));
        var client = clients.CreateClient(ClientName);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"The export webhook answered {(int)response.StatusCode}.", null, response.StatusCode);
        }
    }
}
