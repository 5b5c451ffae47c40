using AuditPipeline.Core.Events;

namespace AuditPipeline.Core.Normalization;

/// <summary>crm: Outsprint's webhook envelope (<c>type</c> = &lt;object&gt;.&lt;verb&gt;) plus audit context.</summary>
internal static class CrmNormalizer
{
    private static readonly HashSet<string> KnownObjects = new(StringComparer.Ordinal) { "contact", "company", "deal", "ticket", "task", "note" };

    private static readonly HashSet<string> KnownVerbs = new(StringComparer.Ordinal)
    {
        "created", "updated", "deleted", "stage_changed", "resolved", "merged", "completed",
    };

    public static NormalizeResult Normalize(ref RawMessage m, DateTimeOffset receivedAt)
    {
        var id = m.RequiredId(RawField.id);
        var (type, obj, verb) = m.RequiredType(RawField.type);
        var time = m.RequiredInstant(RawField.created_at);
        var org = m.RequiredId(RawField.org_id);
        var actor = EnvelopeRules.Actor(ref m);
        var origin = m.OptionalObject(RawField.origin);
        var data = m.OptionalObject(RawField.data);
        var entityId = m.OptionalString(data, RawMember.id, "data.id");
        var entityName = m.OptionalString(data, RawMember.name, "data.name");
        if (m.Failed)
        {
            return m.Rejection();
        }

        var from = EnvelopeRules.Origin(m, origin, actor);
        var json = EventJson.Start();
        var items = EnvelopeRules.AddBeforeAfter(m, json);
        var details = new EventDetails(json);
        EnvelopeRules.AddRequestId(m, origin, ref details);
        var detailsItem = details.End();
        json.Build();
        var (before, after, changes) = EnvelopeRules.BeforeAfter(m, json, items);

        var e = new AuditEvent
        {
            Id = id,
            Time = time,
            OrgId = org,
            Category = Categories.Crm,
            Action = verb,
            EventType = type,
            Outcome = Outcomes.Success,
            Actor = actor,
            Entity = new AuditEntity(obj, entityId, entityName),
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
        return NormalizeResult.Ok(e, unknownType: !KnownObjects.Contains(obj) || !KnownVerbs.Contains(verb));
    }
}
