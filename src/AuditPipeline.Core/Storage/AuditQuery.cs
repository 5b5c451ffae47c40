using AuditPipeline.Core.Events;

namespace AuditPipeline.Core.Storage;

/// <summary>
/// The facade's filters, resolved: each list is OR within itself, AND across lists; an empty list
/// does not filter. Times are absolute (ranges like 30d are resolved by the caller).
/// </summary>
public sealed record AuditQuery
{
    public required string OrgId { get; init; }

    public IReadOnlyList<string> Actions { get; init; } = [];

    /// <summary>Actor ids.</summary>
    public IReadOnlyList<string> Users { get; init; } = [];

    public IReadOnlyList<string> EntityTypes { get; init; } = [];

    public IReadOnlyList<string> EntityIds { get; init; } = [];

    public IReadOnlyList<string> Categories { get; init; } = [];

    /// <summary>Canonical display names (Chat, Admin, API, Workflow, System).</summary>
    public IReadOnlyList<string> Sources { get; init; } = [];

    public IReadOnlyList<string> Outcomes { get; init; } = [];

    /// <summary>AI-initiated or not; both values or none means no filter.</summary>
    public IReadOnlyList<bool> Ai { get; init; } = [];

    /// <summary>Inclusive lower bound.</summary>
    public DateTimeOffset? From { get; init; }

    /// <summary>Exclusive upper bound.</summary>
    public DateTimeOffset? To { get; init; }

    /// <summary>Free-text terms; each must match (see <see cref="TextMatch"/>).</summary>
    public IReadOnlyList<string> Terms { get; init; } = [];

    /// <summary>Continue strictly after this position (newest-first order).</summary>
    public AuditPosition? After { get; init; }

    /// <summary>
    /// The reference semantics of every filter, for stores that post-filter and for tests.
    /// A store must return exactly the events for which this is true.
    /// </summary>
    public bool Matches(AuditEvent e)
    {
        if (!string.Equals(e.OrgId, OrgId, StringComparison.Ordinal))
        {
            return false;
        }

        if (!In(Actions, e.Action) || !In(Users, e.Actor.Id) || !In(EntityTypes, e.Entity.Type) ||
            !In(EntityIds, e.Entity.Id) || !In(Categories, e.Category) || !In(Sources, e.Source) ||
            !In(Outcomes, e.Outcome))
        {
            return false;
        }

        if (Ai.Count > 0 && !Ai.Contains(e.Ai is not null))
        {
            return false;
        }

        if ((From is { } from && e.Time < from) || (To is { } to && e.Time >= to))
        {
            return false;
        }

        if (After is { } after && !after.IsBefore(e))
        {
            return false;
        }

        return TextMatch.MatchesAll(Terms, e);
    }

    private static bool In(IReadOnlyList<string> allowed, string? value)
    {
        if (allowed.Count == 0)
        {
            return true;
        }

        if (value is null)
        {
            return false;
        }

        for (var i = 0; i < allowed.Count; i++)
        {
            if (string.Equals(allowed[i], value, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
