// The normalizer as it was before the single-pass reader (commit e7208cd), kept verbatim but for
// its namespace as the oracle of NormalizationDifferentialTests. Not product code: do not change it.
namespace AuditPipeline.Core.Tests.Normalization.Oracle;

/// <summary>Every top-level field any kind reads; the enum names are the JSON names.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Style", "IDE1006:Naming Styles", Justification = "The names are the wire names.")]
internal enum RawField
{
    id, type, created_at, org_id, actor, origin, data, before, after,
    event_id, ts, tenant, @event, user, ip, ua, reason, session_id, attempted_email, target, channel,
    action_id, timestamp, workspace_id, conversation_id, message_id, on_behalf_of, tool, operation, changes, status, error,
    occurred_at, category, action, details,
}
