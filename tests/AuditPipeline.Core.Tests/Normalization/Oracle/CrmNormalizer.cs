// The normalizer as it was before the single-pass reader (commit e7208cd), kept verbatim but for
// its namespace as the oracle of NormalizationDifferentialTests. Not product code: do not change it.
using System.Text.Json;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Normalization;

namespace AuditPipeline.Core.Tests.Normalization.Oracle;

/// <summary>crm: Outsprint's webhook envelope (<c>type</c> = &lt;object&gt;.&lt;verb&gt;) plus audit context.</summary>
internal static class CrmNormalizer
{
    private static readonly HashSet<string> KnownObjects = new(StringComparer.Ordinal) { "contact", "company", "deal", "ticket", "task", "note" };

    private static readonly HashSet<string> KnownVerbs = new(StringComparer.Ordinal)
    {
        "created", "updated", "deleted", "stage_changed", "resolved", "merged", "completed",
    };

    public static NormalizeResult Normalize(JsonElement root, DateTimeOffset receivedAt)
    {
        var m = new RawMessage(root);
        var id = m.RequiredId(RawField.id);
        var (type, obj, verb) = m.RequiredType(RawField.type);
        var time = m.RequiredInstant(RawField.created_at);
        var org = m.RequiredId(RawField.org_id);
        var actor = EnvelopeRules.Actor(ref m);
        var origin = m.OptionalObject(RawField.origin);
        var data = m.OptionalObject(RawField.data);
        var entityId = m.OptionalString(data, "id", "data.id");
        var entityName = m.OptionalString(data, "name", "data.name");
        if (m.Failed)
        {
            return m.Rejection();
        }

        var from = EnvelopeRules.Origin(m, origin, actor);
        var (before, after, changes) = EnvelopeRules.BeforeAfter(m);
        var details = new EventDetails();
        details.Add("requestId", from.RequestId);

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
            Before = before,
            After = after,
            Ai = null,
            Details = details.Build(),
            ReceivedAt = receivedAt,
        };
        return NormalizeResult.Ok(e, unknownType: !KnownObjects.Contains(obj) || !KnownVerbs.Contains(verb));
    }
}
