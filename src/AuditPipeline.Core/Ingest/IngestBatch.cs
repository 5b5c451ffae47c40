using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;
using AuditPipeline.Core.Normalization;

namespace AuditPipeline.Core.Ingest;

/// <summary>Messages written together, each with its event or its reject reason, completed together in order.</summary>
internal sealed class IngestBatch(int capacity)
{
    public List<IngestMessage> Messages { get; } = new(capacity);

    /// <summary>Events still to append (null once answered or when the message was rejected).</summary>
    public List<AuditEvent?> Events { get; } = new(capacity);

    public List<string?> Errors { get; } = new(capacity);

    public List<RejectReason> Reasons { get; } = new(capacity);

    /// <summary>For an event whose append threw when tried alone: the appender's success count at its first such failure, else -1.</summary>
    public List<long> FirstFailure { get; } = new(capacity);

    /// <summary>Every event the store has answered so far, in the order it answered them (what the observers are told).</summary>
    public List<AuditEvent> AnsweredEvents { get; } = new(capacity);

    /// <summary>The store's answer for each of <see cref="AnsweredEvents"/>.</summary>
    public List<AppendResult> AnsweredResults { get; } = new(capacity);

    public int Count => Messages.Count;

    public void Add(IngestMessage m, AuditEvent? e, string? error, RejectReason reason)
    {
        Messages.Add(m);
        Events.Add(e);
        Errors.Add(error);
        Reasons.Add(reason);
        FirstFailure.Add(-1);
    }

    public void Fail(int i, string error, RejectReason reason)
    {
        Errors[i] = error;
        Reasons[i] = reason;
    }

    public void Answered(AuditEvent e, AppendResult result)
    {
        AnsweredEvents.Add(e);
        AnsweredResults.Add(result);
    }

    public void Merge(IngestBatch next)
    {
        Messages.AddRange(next.Messages);
        Events.AddRange(next.Events);
        Errors.AddRange(next.Errors);
        Reasons.AddRange(next.Reasons);
        FirstFailure.AddRange(next.FirstFailure);
    }

    /// <summary>The events still to append and the index of each one's message.</summary>
    public (List<AuditEvent> Events, List<int> Owners) Pending()
    {
        var events = new List<AuditEvent>(Count);
        var owners = new List<int>(Count);
        for (var i = 0; i < Count; i++)
        {
            if (Events[i] is { } e)
            {
                events.Add(e);
                owners.Add(i);
            }
        }

        return (events, owners);
    }
}
