using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Core.Retention;

/// <summary>
/// Each organisation's plan history. An event's retention class is the plan in force at the event's
/// own time, so where an event is stored is a pure function of the event and the history: a
/// redelivery always goes to the same place.
/// </summary>
public sealed class RetentionPlanRegistry
{
    private readonly RetentionClass _default;
    private readonly ConcurrentDictionary<string, PlanHistory> _orgs = new(StringComparer.Ordinal);

    public RetentionPlanRegistry(IOptions<RetentionOptions> options)
    {
        var o = options.Value;
        _default = RetentionClass.For(o.DefaultPlan, o.DefaultYears);
        foreach (var (org, plan) in o.Orgs)
        {
            Record(org, RetentionClass.For(plan.Plan, plan.Years), DateTimeOffset.MinValue);
        }
    }

    public RetentionClass Default => _default;

    /// <summary>Records that <paramref name="retentionClass"/> is in force for an organisation from <paramref name="effectiveFrom"/>.</summary>
    public void Record(string orgId, RetentionClass retentionClass, DateTimeOffset effectiveFrom) =>
        _orgs.GetOrAdd(orgId, _ => new PlanHistory()).Add(effectiveFrom, retentionClass);

    /// <summary>The class in force for <paramref name="orgId"/> at <paramref name="eventTime"/>.</summary>
    public RetentionClass ClassFor(string orgId, DateTimeOffset eventTime) =>
        _orgs.TryGetValue(orgId, out var history) ? history.At(eventTime) ?? _default : _default;

    private sealed class PlanHistory
    {
        private readonly object _gate = new();
        private readonly SortedList<DateTimeOffset, RetentionClass> _entries = [];

        public void Add(DateTimeOffset from, RetentionClass c)
        {
            lock (_gate)
            {
                _entries[from] = c;
            }
        }

        public RetentionClass? At(DateTimeOffset t)
        {
            lock (_gate)
            {
                RetentionClass? found = null;
                foreach (var (from, c) in _entries)
                {
                    if (from > t)
                    {
                        break;
                    }

                    found = c;
                }

                return found;
            }
        }
    }
}
