using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace AuditPipeline.Api.Endpoints;

/// <summary>
/// Reads a small JSON request body defensively: any content type but multipart or a charset other than UTF-8, at most the configured
/// number of bytes, nested at most <see cref="MaxDepth"/> levels, one value with nothing after it, and
/// every member name and string valid text (an escape such as <c>\ud800</c> is refused here, before
/// anything tries to turn it into a .NET string or store it). Each failure is a problem the client
/// can act on; none reaches the store.
/// </summary>
internal static class JsonBody
{
    /// <summary>A filter body is two levels deep; anything much deeper is not a filter.</summary>
    public const int MaxDepth = 16;

    public const string Parameter = "body";

    public const string InvalidText =
        "The request body holds a string or member name that is not valid text (an unpaired surrogate such as \\ud800); send valid UTF-8 / UTF-16.";

    /// <summary>The parsed body (an empty object for an empty body), or the problem to answer.</summary>
    public static async Task<(JsonElement? Value, IResult? Problem)> ReadAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (!IsJsonOrAbsent(request.ContentType))
        {
            return (null, UnsupportedMediaType(request.ContentType!));
        }

        if (request.ContentLength > limit)
        {
            return (null, ApiProblems.PayloadTooLarge(limit));
        }

        var body = await ReadLimitedAsync(request.Body, limit, cancellationToken);
        if (body is null)
        {
            return (null, ApiProblems.PayloadTooLarge(limit));
        }

        var bytes = body.AsMemory();
        if (bytes.Span.StartsWith("\uFEFF"u8))
        {
            bytes = bytes[3..];
        }

        if (bytes.Span.Trim(" \t\r\n"u8).IsEmpty)
        {
            using var empty = JsonDocument.Parse("{}");
            return (empty.RootElement.Clone(), null);
        }

        if (Check(bytes.Span) is { } problem)
        {
            return (null, ApiProblems.Invalid(Parameter, problem));
        }

        try
        {
            using var doc = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = MaxDepth + 1 });
            return (doc.RootElement.Clone(), null);
        }
        catch (JsonException)
        {
            return (null, ApiProblems.Invalid(Parameter, NotJson));
        }
    }

    /// <summary>Null when the bytes are one well-formed JSON value within the depth of only valid text.</summary>
    internal static string? Check(ReadOnlySpan<byte> json)
    {
        // The reader's own depth cap is set above ours so that our check, with its clearer message, fires first.
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxDepth + 1 });
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray when reader.CurrentDepth >= MaxDepth:
                        return $"The request body is nested deeper than {MaxDepth} levels; a filter body is a flat object of strings and arrays.";
                    case JsonTokenType.PropertyName or JsonTokenType.String:
                        try
                        {
                            _ = reader.GetString();
                        }
                        catch (InvalidOperationException)
                        {
                            return InvalidText;
                        }

                        break;
                }
            }
        }
        catch (JsonException)
        {
            return NotJson;
        }

        return null;
    }

    private const string NotJson =
        "The request body is not valid JSON (one UTF-8 JSON value and nothing after it); send a JSON object of filters, e.g. {\"action\":[\"deleted\"],\"range\":\"30d\"}.";

    /// <summary>
    /// Any declared type is read as JSON (curl's <c>-d</c> sends form encoding and HttpClient's
    /// StringContent text/plain, and both carry JSON in practice); only what cannot be JSON text in UTF-8
    /// is refused: a multipart upload or another charset.
    /// </summary>
    private static bool IsJsonOrAbsent(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType) || !MediaTypeHeaderValue.TryParse(contentType, out var media))
        {
            return true;
        }

        if (media.MediaType.Value is { } type && type.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var charset = media.Charset.Value;
        return string.IsNullOrEmpty(charset) || charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase);
    }

    private static ProblemHttpResult UnsupportedMediaType(string given) =>
        TypedResults.Problem(
            title: "Unsupported Media Type",
            detail: $"The request body must be JSON text in UTF-8: send Content-Type: application/json (was '{(given.Length <= 64 ? given : given[..64] + "…")}').",
            statusCode: StatusCodes.Status415UnsupportedMediaType);

    /// <summary>Reads at most <paramref name="limit"/> bytes; null when the body is longer.</summary>
    private static async Task<byte[]?> ReadLimitedAsync(Stream body, int limit, CancellationToken cancellationToken)
    {
        var buffer = new byte[Math.Min(limit + 1, 16 * 1024)];
        using var collected = new MemoryStream();
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            collected.Write(buffer, 0, read);
            if (collected.Length > limit)
            {
                return null;
            }
        }

        return collected.ToArray();
    }
}
