using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Ingest;
using AuditPipeline.Core.Retention;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Core.Normalization;

/// <summary>
/// Turns a raw message of any of the four kinds into one <see cref="AuditEvent"/> following the
/// contract's mapping table and generic rules, or into the reason it is rejected. Before parsing, the
/// raw bytes are checked to be storable (size, UTF-8, no unpaired surrogate escapes, nesting at most
/// 64 deep); after mapping, the event's time is checked to be plausible for its organisation's plan.
/// </summary>
public sealed class AuditNormalizer
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = StorableJson.MaxDepth };

    private readonly int _maxBytes;
    private readonly PlausibleTime _time;

    public AuditNormalizer(IOptions<IngestOptions> options, RetentionPlanRegistry registry)
    {
        _maxBytes = options.Value.MaxMessageBytes;
        _time = new PlausibleTime(registry, options.Value.MaxFutureSkew);
    }

    /// <summary>With the default plan (professional, 2 years) for every organisation.</summary>
    public AuditNormalizer(IOptions<IngestOptions> options)
        : this(options, new RetentionPlanRegistry(Options.Create(new RetentionOptions())))
    {
    }

    public AuditNormalizer()
        : this(Options.Create(new IngestOptions()))
    {
    }

    /// <summary>Called once a message is parsed (with a document parsed for it alone); lets a test make normalization fail from the inside.</summary>
    internal Action<JsonElement>? OnParsed { get; init; }

    /// <summary>Never throws: any bytes give an event or a reason.</summary>
    public NormalizeResult Normalize(SourceKind kind, ReadOnlyMemory<byte> utf8, DateTimeOffset receivedAt)
    {
        try
        {
            return NormalizeCore(kind, utf8, receivedAt);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A shape no rule anticipated, or a bug: one message must never stop the pipeline, so it is
            // rejected with what went wrong. Running out of memory is not about this message (it is at
            // most MaxMessageBytes): rejecting a valid event for it would lose it, so it propagates and
            // the host restarts with the message still unacknowledged.
            return NormalizeResult.Reject($"the message could not be normalized: {ex.GetType().Name}: {FirstSentence(ex.Message)}", RejectReason.Internal);
        }
    }

    private NormalizeResult NormalizeCore(SourceKind kind, ReadOnlyMemory<byte> utf8, DateTimeOffset receivedAt)
    {
        if (utf8.Length > _maxBytes)
        {
            return NormalizeResult.Reject($"the message is {utf8.Length} bytes, larger than the limit of {_maxBytes} bytes (MaxMessageBytes)", RejectReason.TooLarge);
        }

        if (utf8.IsEmpty)
        {
            return NormalizeResult.Reject("the message is empty, not a JSON object", RejectReason.InvalidJson);
        }

        // The parser leaves strings it is never asked to decode (before, after, details) unchecked, and
        // the store would then write bytes that are not UTF-8: the whole message is checked once here.
        if (Utf8.IsValid(utf8.Span) is false)
        {
            return NormalizeResult.Reject($"the message is not valid UTF-8 (at byte {InvalidUtf8At(utf8.Span)})", RejectReason.InvalidJson);
        }

        if (StorableJson.Check(utf8.Span) is { } unstorable)
        {
            return NormalizeResult.Reject(unstorable.Error, unstorable.Reason);
        }

        // Where each value is, on the stack and not zeroed (the assembly skips locals' initialization).
        Span<RawValue> slots = stackalloc RawValue[RawMessage.Slots];
        Span<Member> records = stackalloc Member[RawMessage.RecordSlots];
        scoped RawMessage m;
        try
        {
            // One reader pass validates the whole message as JsonDocument.Parse would; what the event
            // keeps as JSON is copied out (EventJson), so the caller's buffer must stay unchanged only until this returns.
            m = new RawMessage(utf8, slots, records);
        }
        catch (JsonException ex)
        {
            return NormalizeResult.Reject($"the message is not valid JSON: {FirstSentence(ex.Message)}", RejectReason.InvalidJson);
        }

        if (m.RootKind != JsonValueKind.Object)
        {
            return NormalizeResult.Reject($"the message is not a JSON object (it is {RawMessage.Describe(m.RootKind)})", RejectReason.InvalidJson);
        }

        if (OnParsed is { } onParsed)
        {
            using var doc = JsonDocument.Parse(utf8, DocumentOptions);
            onParsed(doc.RootElement);
        }

        var received = AuditJson.TruncateToMilliseconds(receivedAt);
        var result = kind switch
        {
            SourceKind.Crm => CrmNormalizer.Normalize(ref m, received),
            SourceKind.Auth => AuthNormalizer.Normalize(ref m, received),
            SourceKind.Ai => AiNormalizer.Normalize(ref m, received),
            SourceKind.Platform => PlatformNormalizer.Normalize(ref m, received),
            _ => NormalizeResult.Reject($"unknown source kind {kind}", RejectReason.Internal),
        };

        if (result.IsSuccess && _time.Check(kind, utf8, result.Event) is { } implausible)
        {
            return NormalizeResult.Reject(implausible, RejectReason.ImplausibleTime);
        }

        return result;
    }

    private static int InvalidUtf8At(ReadOnlySpan<byte> utf8)
    {
        var i = 0;
        while (i < utf8.Length && Rune.DecodeFromUtf8(utf8[i..], out _, out var n) == System.Buffers.OperationStatus.Done)
        {
            i += n;
        }

        return i;
    }

    private static string FirstSentence(string message)
    {
        var i = message.IndexOf(". ", StringComparison.Ordinal);
        return i > 0 ? message[..i] : message.TrimEnd('.');
    }
}
