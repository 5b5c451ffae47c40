using System.Buffers;
using System.Text.Json;
using AuditPipeline.Core.Events;

namespace AuditPipeline.Core.Integrity;

/// <summary>
/// Writes the RFC 8785 canonical JSON of an <see cref="AuditEvent"/> straight from its members, without
/// serializing and parsing it back. The event's own members are fixed, so they are written here in JCS
/// order (names sorted by UTF-16 code units) with JCS string rules; only the free-form JSON parts
/// (before, after, details, the changes' values) go through the general writers: <see cref="JcsRaw"/>
/// from the bytes a normalized event holds, <see cref="Jcs"/> from an element. The
/// output must equal <c>Jcs.Canonicalize(AuditJson.SerializeToUtf8Bytes(e))</c> byte for byte (a property
/// test holds it to that); anything this writer cannot reproduce exactly (a string that is not valid
/// UTF-16, an undefined JSON element) makes <see cref="TryWrite"/> answer false, and the caller takes the
/// reference path, which gives the same bytes or the same error.
/// </summary>
public static class CanonicalEventWriter
{
    private const int KeptScratch = 64 * 1024;

    /// <summary>The largest value canonicalized from its bytes; larger ones take the element path (linear in their size).</summary>
    internal const int RawLimit = 16 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_scratch;

    /// <summary>Writes the canonical bytes of <paramref name="e"/>; false (output partly written) where only the reference path is exact.</summary>
    public static bool TryWrite(IBufferWriter<byte> output, AuditEvent e)
    {
        // Members in UTF-16 code unit order: action, actor, after, ai, before, category, changes, details,
        // entity, eventType, id, ip, orgId, outcome, receivedAt, source, time, userAgent.
        return Raw(output, "{\"action\":"u8) && Str(output, e.Action)
            && Raw(output, ",\"actor\":"u8) && Actor(output, e.Actor)
            && Raw(output, ",\"after\":"u8) && Element(output, e.AfterJson)
            && Raw(output, ",\"ai\":"u8) && Ai(output, e.Ai)
            && Raw(output, ",\"before\":"u8) && Element(output, e.BeforeJson)
            && Raw(output, ",\"category\":"u8) && Str(output, e.Category)
            && Raw(output, ",\"changes\":"u8) && Changes(output, e.Changes)
            && Raw(output, ",\"details\":"u8) && Element(output, e.DetailsJson)
            && Raw(output, ",\"entity\":"u8) && Entity(output, e.Entity)
            && Raw(output, ",\"eventType\":"u8) && Str(output, e.EventType)
            && Raw(output, ",\"id\":"u8) && Str(output, e.Id)
            && Raw(output, ",\"ip\":"u8) && Str(output, e.Ip)
            && Raw(output, ",\"orgId\":"u8) && Str(output, e.OrgId)
            && Raw(output, ",\"outcome\":"u8) && Str(output, e.Outcome)
            && Raw(output, ",\"receivedAt\":"u8) && Time(output, e.ReceivedAt)
            && Raw(output, ",\"source\":"u8) && Str(output, e.Source)
            && Raw(output, ",\"time\":"u8) && Time(output, e.Time)
            && Raw(output, ",\"userAgent\":"u8) && Str(output, e.UserAgent)
            && Raw(output, "}"u8);
    }

    private static bool Actor(IBufferWriter<byte> output, AuditActor? a) =>
        a is null
            ? Raw(output, "null"u8)
            : Raw(output, "{\"email\":"u8) && Str(output, a.Email)
              && Raw(output, ",\"id\":"u8) && Str(output, a.Id)
              && Raw(output, ",\"name\":"u8) && Str(output, a.Name)
              && Raw(output, ",\"type\":"u8) && Str(output, a.Type)
              && Raw(output, "}"u8);

    private static bool Entity(IBufferWriter<byte> output, AuditEntity? en) =>
        en is null
            ? Raw(output, "null"u8)
            : Raw(output, "{\"id\":"u8) && Str(output, en.Id)
              && Raw(output, ",\"name\":"u8) && Str(output, en.Name)
              && Raw(output, ",\"type\":"u8) && Str(output, en.Type)
              && Raw(output, "}"u8);

    private static bool Ai(IBufferWriter<byte> output, AuditAi? ai) =>
        ai is null
            ? Raw(output, "null"u8)
            : Raw(output, "{\"conversationId\":"u8) && Str(output, ai.ConversationId)
              && Raw(output, ai.Initiated ? ",\"initiated\":true"u8 : ",\"initiated\":false"u8)
              && Raw(output, ",\"messageId\":"u8) && Str(output, ai.MessageId)
              && Raw(output, ",\"tool\":"u8) && Str(output, ai.Tool)
              && Raw(output, "}"u8);

    private static bool Changes(IBufferWriter<byte> output, IReadOnlyList<AuditChange>? changes)
    {
        if (changes is null)
        {
            return Raw(output, "null"u8);
        }

        Raw(output, "["u8);
        for (var i = 0; i < changes.Count; i++)
        {
            var c = changes[i];
            if (i > 0)
            {
                Raw(output, ","u8);
            }

            var ok = c is null
                ? Raw(output, "null"u8)
                : Raw(output, "{\"after\":"u8) && Element(output, c.AfterJson)
                  && Raw(output, ",\"before\":"u8) && Element(output, c.BeforeJson)
                  && Raw(output, ",\"field\":"u8) && Str(output, c.Field)
                  && Raw(output, "}"u8);
            if (!ok)
            {
                return false;
            }
        }

        return Raw(output, "]"u8);
    }

    private static bool Element(IBufferWriter<byte> output, JsonSlot slot) =>
        slot.Raw is { } raw ? RawValue(output, raw) : Element(output, slot.Element);

    /// <summary>
    /// A value held as its bytes, canonicalized from them (into a scratch buffer, as the raw writer may
    /// stop part-way); the shapes it leaves to the element path (duplicate names, undecodable text) take
    /// it, and so does a large value: the raw writer reads a nested object's members again at each level
    /// (up to 64 times), the element path once, and a document per event costs nothing next to such a size.
    /// </summary>
    private static bool RawValue(IBufferWriter<byte> output, RawJson raw)
    {
        var scratch = t_scratch ??= new ArrayBufferWriter<byte>(256);
        scratch.ResetWrittenCount();
        if (raw.Utf8.Length <= RawLimit && JcsRaw.TryWrite(scratch, raw.Utf8))
        {
            output.Write(scratch.WrittenSpan);
        }
        else
        {
            Jcs.Write(output, raw.Element);
        }

        if (scratch.Capacity > KeptScratch)
        {
            t_scratch = null;
        }

        return true;
    }

    private static bool Element(IBufferWriter<byte> output, JsonElement? element)
    {
        if (element is not { } el)
        {
            return Raw(output, "null"u8);
        }

        // System.Text.Json refuses to serialize an undefined element; the reference path says so.
        if (el.ValueKind == JsonValueKind.Undefined)
        {
            return false;
        }

        // The reference path serializes the element and parses it back: the same JSON data, which the
        // canonical form depends on alone, so canonicalizing the element itself gives the same bytes.
        Jcs.Write(output, el);
        return true;
    }

    private static bool Raw(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes) => JcsText.Raw(output, bytes);

    private static bool Str(IBufferWriter<byte> output, string? value) => JcsText.Quoted(output, value);

    private static bool Time(IBufferWriter<byte> output, DateTimeOffset t) => JcsText.Time(output, t);
}
