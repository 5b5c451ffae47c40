using System.Text.Json;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Ingest;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Core.Normalization;

/// <summary>
/// Turns a raw message of any of the four kinds into one <see cref="AuditEvent"/> following the
/// contract's mapping table and generic rules, or into the reason it is rejected.
/// </summary>
public sealed class AuditNormalizer(IOptions<IngestOptions> options)
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    private readonly int _maxBytes = options.Value.MaxMessageBytes;

    public AuditNormalizer()
        : this(Options.Create(new IngestOptions()))
    {
    }

    /// <summary>Never throws: any bytes give an event or a reason.</summary>
    public NormalizeResult Normalize(SourceKind kind, ReadOnlyMemory<byte> utf8, DateTimeOffset receivedAt)
    {
        if (utf8.Length > _maxBytes)
        {
            return NormalizeResult.Reject($"the message is {utf8.Length} bytes, larger than the limit of {_maxBytes} bytes (MaxMessageBytes)");
        }

        if (utf8.IsEmpty)
        {
            return NormalizeResult.Reject("the message is empty, not a JSON object");
        }

        JsonDocument doc;
        try
        {
            // Parsed in place: the caller's buffer must stay unchanged until this returns (events hold clones).
            doc = JsonDocument.Parse(utf8, DocumentOptions);
        }
        catch (JsonException ex)
        {
            return NormalizeResult.Reject($"the message is not valid JSON: {FirstSentence(ex.Message)}");
        }
        catch (ArgumentException ex)
        {
            // Invalid UTF-8 surfaces as ArgumentException from some reader paths.
            return NormalizeResult.Reject($"the message is not valid UTF-8 JSON: {FirstSentence(ex.Message)}");
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return NormalizeResult.Reject($"the message is not a JSON object (it is {RawMessage.Describe(doc.RootElement)})");
            }

            var received = AuditJson.TruncateToMilliseconds(receivedAt);
            try
            {
                return kind switch
                {
                    SourceKind.Crm => CrmNormalizer.Normalize(doc.RootElement, received),
                    SourceKind.Auth => AuthNormalizer.Normalize(doc.RootElement, received),
                    SourceKind.Ai => AiNormalizer.Normalize(doc.RootElement, received),
                    SourceKind.Platform => PlatformNormalizer.Normalize(doc.RootElement, received),
                    _ => NormalizeResult.Reject($"unknown source kind {kind}"),
                };
            }
            catch (Exception ex) when (ex is InvalidOperationException or FormatException or ArgumentException)
            {
                // A shape no rule anticipated: rejected with a reason rather than crashing the pipeline.
                return NormalizeResult.Reject($"the message could not be normalized: {FirstSentence(ex.Message)}");
            }
        }
    }

    private static string FirstSentence(string message)
    {
        var i = message.IndexOf(". ", StringComparison.Ordinal);
        return i > 0 ? message[..i] : message.TrimEnd('.');
    }
}

/// <summary>Rules shared by kinds that carry an Outsprint actor and origin (crm, platform).</summary>
internal static class Common
{
    public static AuditActor Actor(ref RawMessage m)
    {
        var actor = m.OptionalObject(F.actor);
        if (m.Failed || actor is null)
        {
            return AuditActor.System;
        }

        var type = m.OptionalString(actor, "type", "actor.type") ?? ActorTypes.User;
        var id = m.OptionalString(actor, "id", "actor.id");
        var name = m.OptionalString(actor, "name", "actor.name");
        var email = m.OptionalString(actor, "email", "actor.email");
        return type == ActorTypes.System ? AuditActor.System : new AuditActor(type, id, name, email);
    }

    /// <summary>The channel's display name, else the one implied by the actor.</summary>
    public static string Source(string? channel, AuditActor actor) =>
        Sources.FromChannel(channel) ?? Sources.FromActorType(actor.Type);

    /// <summary>Where an Outsprint envelope came from: its <c>origin</c> object, with the source following the actor when no channel is named.</summary>
    public static EnvelopeOrigin Origin(in RawMessage m, JsonElement? origin, AuditActor actor) => new(
        Source(m.LenientString(origin, "channel"), actor),
        m.LenientString(origin, "ip"),
        m.LenientString(origin, "user_agent"),
        m.LenientString(origin, "request_id"));

    /// <summary>The record's before and after (cloned to outlive the parse) and the changes between them.</summary>
    public static (JsonElement? Before, JsonElement? After, IReadOnlyList<AuditChange> Changes) BeforeAfter(in RawMessage m)
    {
        var before = m.Raw(F.before)?.Clone();
        var after = m.Raw(F.after)?.Clone();
        return (before, after, ChangeSet.Compute(before, after));
    }
}

internal readonly record struct EnvelopeOrigin(string Source, string? Ip, string? UserAgent, string? RequestId);
