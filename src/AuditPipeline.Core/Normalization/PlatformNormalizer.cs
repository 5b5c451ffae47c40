using System.Text.Json;
using AuditPipeline.Core.Events;

namespace AuditPipeline.Core.Normalization;

/// <summary>platform: settings, security policy and data operations.</summary>
internal static class PlatformNormalizer
{
    private static readonly HashSet<string> PlatformCategories = new(StringComparer.Ordinal) { Categories.Settings, Categories.Security, Categories.Data };

    /// <summary>Objects whose action is the bare verb (pipeline.created → created).</summary>
    private static readonly HashSet<string> VerbOnlyObjects = new(StringComparer.Ordinal) { "pipeline", "property", "integration" };

    private static readonly HashSet<string> KnownActions = new(StringComparer.Ordinal)
    {
        "pipeline.created", "pipeline.updated", "pipeline.deleted",
        "property.created", "property.updated", "property.deleted",
        "integration.connected", "integration.disconnected",
        "import.started", "import.completed", "export.requested",
        "bulk.updated", "bulk.deleted", "gdpr.erasure_executed",
    };

    public static NormalizeResult Normalize(ref RawMessage m, DateTimeOffset receivedAt)
    {
        var id = m.RequiredId(RawField.event_id);
        var time = m.RequiredInstant(RawField.occurred_at);
        var org = m.RequiredId(RawField.org_id);
        var category = m.Required(RawField.category);
        if (!m.Failed && !PlatformCategories.Contains(category))
        {
            m.Fail(RejectReason.InvalidValue, $"category '{RawMessage.Shorten(category)}' is not one of settings, security or data");
        }

        var (type, obj, verb) = m.RequiredType(RawField.action);
        var actor = EnvelopeRules.Actor(ref m);
        var origin = m.OptionalObject(RawField.origin);
        var target = m.OptionalObject(RawField.target);
        var targetType = m.OptionalString(target, RawMember.type, "target.type");
        var targetId = m.OptionalString(target, RawMember.id, "target.id");
        var targetName = m.OptionalString(target, RawMember.name, "target.name");
        if (m.Failed)
        {
            return m.Rejection();
        }

        var from = EnvelopeRules.Origin(m, origin, actor);
        var json = EventJson.Start();
        var items = EnvelopeRules.AddBeforeAfter(m, json);
        var details = new EventDetails(json);
        EnvelopeRules.AddRequestId(m, origin, ref details);
        details.AddMembers(m.RawOf(RawField.details, JsonValueKind.Object));

        var detailsItem = details.End();
        json.Build();
        var (before, after, changes) = EnvelopeRules.BeforeAfter(m, json, items);

        var e = new AuditEvent
        {
            Id = id,
            Time = time,
            OrgId = org,
            Category = category,
            Action = ActionOf(obj, verb),
            EventType = type,
            Outcome = Outcomes.Success,
            Actor = actor,
            Entity = new AuditEntity(targetType ?? obj, targetId, targetName),
            Source = from.Source,
            Ip = from.Ip,
            UserAgent = from.UserAgent,
            Changes = changes,
            BeforeJson = before,
            AfterJson = after,
            Ai = null,
            DetailsJson = EventDetails.Of(json, detailsItem),
            ReceivedAt = receivedAt,
        };
        return NormalizeResult.Ok(e, unknownType: !KnownActions.Contains(type));
    }

    /// <summary>pipeline/property/integration → the verb; gdpr.erasure_executed → erasure_executed; otherwise &lt;object&gt;_&lt;verb&gt;.</summary>
    public static string ActionOf(string obj, string verb) =>
        VerbOnlyObjects.Contains(obj) || (obj == "gdpr" && verb == "erasure_executed") ? verb : $"{obj}_{verb}";
}
