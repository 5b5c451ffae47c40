using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using AuditPipeline.Core.Events;

namespace AuditPipeline.Core.Tests.Normalization;

/// <summary>
/// A slot holds raw bytes, an element, or nothing, in one reference: what it gives back, how it compares
/// and what it writes do not depend on which it holds.
/// </summary>
public class JsonSlotTests
{
    [Fact]
    public void A_slot_is_one_reference()
    {
        // An event holds three and each change two; the normalizer fills them for every message.
        Assert.Equal(IntPtr.Size, Unsafe.SizeOf<JsonSlot>());
    }

    [Fact]
    public void Raw_bytes_give_themselves_and_their_element()
    {
        var raw = new RawJson(Encoding.UTF8.GetBytes("""{"stage":"Demo"}"""));
        var slot = new JsonSlot(raw);

        Assert.Same(raw, slot.Raw);
        Assert.Null(slot.Element);
        Assert.False(slot.IsEmpty);
        Assert.Equal("Demo", slot.Value!.Value.GetProperty("stage").GetString());
        Assert.Equal("""{"stage":"Demo"}""", Written(slot));
    }

    [Fact]
    public void An_element_gives_itself()
    {
        var element = JsonDocument.Parse("""[1, "a"]""").RootElement;
        var slot = new JsonSlot(element);

        Assert.Null(slot.Raw);
        Assert.Equal(element, slot.Element);
        Assert.Equal(element, slot.Value);
        Assert.False(slot.IsEmpty);
        Assert.Equal("""[1,"a"]""", Written(slot));
    }

    [Fact]
    public void Nothing_is_empty_and_written_as_null()
    {
        foreach (var slot in new[] { default, new JsonSlot((JsonElement?)null), new JsonSlot((RawJson?)null) })
        {
            Assert.True(slot.IsEmpty);
            Assert.Null(slot.OrNull);
            Assert.Null(slot.Raw);
            Assert.Null(slot.Element);
            Assert.Null(slot.Value);
            Assert.Equal("null", Written(slot));
            Assert.Equal(default(JsonSlot), slot);
        }
    }

    [Fact]
    public void Slots_are_equal_when_they_hold_the_same_bytes_or_the_same_element()
    {
        var raw = new RawJson(Encoding.UTF8.GetBytes("1"));
        var element = JsonDocument.Parse("1").RootElement;

        Assert.Equal(new JsonSlot(raw), new JsonSlot(raw));
        Assert.Equal(new JsonSlot(element), new JsonSlot(element));
        Assert.Equal(new JsonSlot(element).GetHashCode(), new JsonSlot(element).GetHashCode());
        Assert.NotEqual(new JsonSlot(raw), new JsonSlot(new RawJson(Encoding.UTF8.GetBytes("1"))));
        Assert.NotEqual(new JsonSlot(raw), new JsonSlot(element));
        Assert.NotEqual(new JsonSlot(raw), default);
        Assert.NotEqual(new JsonSlot(element), default);
    }

    [Fact]
    public void The_shared_empty_object_is_the_default_details()
    {
        Assert.Equal("{}", Written(JsonSlot.EmptyObject));
        Assert.Equal(JsonValueKind.Object, JsonSlot.EmptyObject.Value!.Value.ValueKind);
        Assert.Equal(JsonSlot.EmptyObject, new AuditEvent
        {
            Id = "e", Time = default, OrgId = "o", Category = "c", Action = "a", EventType = "t", Outcome = "success",
            Actor = AuditActor.System, Entity = new AuditEntity("x", null, null), Source = "System", ReceivedAt = default,
        }.DetailsJson);
    }

    private static string Written(JsonSlot slot)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            slot.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
