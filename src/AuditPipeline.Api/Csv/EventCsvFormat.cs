using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using AuditPipeline.Core.Events;
using CsvHelper;
using CsvHelper.Configuration;

namespace AuditPipeline.Api.Csv;

/// <summary>
/// The CSV shape of audit events, shared by the streamed <c>events.csv</c> and export jobs: UTF-8 with a
/// byte-order mark, CRLF, RFC 4180 quoting (a cell is quoted when it holds a comma, a quote, CR or LF),
/// the contract's 18 columns, and spreadsheet formula injection neutralised by a leading <c>'</c>.
/// </summary>
internal static class EventCsvFormat
{
    public const string ContentType = "text/csv; charset=utf-8";

    public static IReadOnlyList<string> Columns { get; } =
    [
        "Time", "User", "User Email", "Action", "Event Type", "Category", "Entity Type", "Entity ID",
        "Entity Name", "Source", "Outcome", "IP Address", "User Agent", "AI Initiated", "Conversation ID",
        "Message ID", "Changes", "Event ID",
    ];

    private static readonly byte[] Bom = [0xEF, 0xBB, 0xBF];

    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    private static readonly JsonWriterOptions CompactJson = new()
    {
        Indented = false,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly CsvConfiguration Configuration = new(CultureInfo.InvariantCulture)
    {
        NewLine = "\r\n",
        Delimiter = ",",
        Quote = '"',
        ShouldQuote = args => NeedsQuotes(args.Field),
        InjectionOptions = InjectionOptions.None, // done in Cell, so the rule is ours and the same for every column
    };

    /// <summary>
    /// Writes the BOM, the header and every event to <paramref name="output"/>, flushing as it goes so
    /// memory stays flat whatever the row count. Returns the number of rows written.
    /// </summary>
    public static async Task<long> WriteAsync(Stream output, IAsyncEnumerable<AuditEvent> events, Action<long>? progress, CancellationToken cancellationToken)
    {
        await output.WriteAsync(Bom, cancellationToken);
        await using var text = new StreamWriter(output, Utf8NoBom, bufferSize: 32 * 1024, leaveOpen: true);
        await using var csv = new CsvWriter(text, Configuration, leaveOpen: true);
        foreach (var column in Columns)
        {
            csv.WriteField(column);
        }

        await csv.NextRecordAsync();
        long rows = 0;
        await foreach (var e in events.WithCancellation(cancellationToken))
        {
            WriteRow(csv, e);
            await csv.NextRecordAsync();
            rows++;
            if (rows % 1024 == 0)
            {
                progress?.Invoke(rows);
            }
        }

        await csv.FlushAsync();
        await text.FlushAsync(cancellationToken);
        progress?.Invoke(rows);
        return rows;
    }

    public static void WriteRow(IWriter csv, AuditEvent e)
    {
        csv.WriteField(Cell(AuditJson.FormatTime(e.Time)));
        csv.WriteField(Cell(e.Actor.Name));
        csv.WriteField(Cell(e.Actor.Email));
        csv.WriteField(Cell(e.Action));
        csv.WriteField(Cell(e.EventType));
        csv.WriteField(Cell(e.Category));
        csv.WriteField(Cell(e.Entity.Type));
        csv.WriteField(Cell(e.Entity.Id));
        csv.WriteField(Cell(e.Entity.Name));
        csv.WriteField(Cell(e.Source));
        csv.WriteField(Cell(e.Outcome));
        csv.WriteField(Cell(e.Ip));
        csv.WriteField(Cell(e.UserAgent));
        csv.WriteField(e.Ai is { Initiated: true } ? "true" : "false");
        csv.WriteField(Cell(e.Ai?.ConversationId));
        csv.WriteField(Cell(e.Ai?.MessageId));
        csv.WriteField(Cell(Changes(e.Changes)));
        csv.WriteField(Cell(e.Id));
    }

    /// <summary>An absent value is an empty cell; a cell a spreadsheet would run as a formula gets a leading <c>'</c>.</summary>
    public static string Cell(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }

        return value[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + value : value;
    }

    /// <summary><c>field: before → after</c> joined by <c>; </c>, values as compact JSON (<c>null</c> when absent).</summary>
    public static string Changes(IReadOnlyList<AuditChange> changes)
    {
        if (changes.Count == 0)
        {
            return "";
        }

        var sb = new StringBuilder();
        var buffer = new ArrayBufferWriter<byte>(256);
        using var writer = new Utf8JsonWriter(buffer, CompactJson);
        for (var i = 0; i < changes.Count; i++)
        {
            if (i > 0)
            {
                sb.Append("; ");
            }

            sb.Append(changes[i].Field).Append(": ");
            AppendJson(sb, changes[i].Before, buffer, writer);
            sb.Append(" → ");
            AppendJson(sb, changes[i].After, buffer, writer);
        }

        return sb.ToString();
    }

    private static void AppendJson(StringBuilder sb, JsonElement? value, ArrayBufferWriter<byte> buffer, Utf8JsonWriter writer)
    {
        if (value is not { } v || v.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            sb.Append("null");
            return;
        }

        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        v.WriteTo(writer);
        writer.Flush();
        sb.Append(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    private static bool NeedsQuotes(string? field) =>
        !string.IsNullOrEmpty(field) && field.AsSpan().IndexOfAny(",\"\r\n") >= 0;
}
