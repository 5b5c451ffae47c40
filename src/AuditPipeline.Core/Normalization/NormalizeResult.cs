using System.Diagnostics.CodeAnalysis;
using AuditPipeline.Core.Events;

namespace AuditPipeline.Core.Normalization;

/// <summary>Either an event or the reason, in a sentence a person understands, why the message was rejected.</summary>
public readonly record struct NormalizeResult
{
    private NormalizeResult(AuditEvent? e, string? error, bool unknownType, RejectReason reason)
    {
        Event = e;
        Error = error;
        IsUnknownType = unknownType;
        Reason = reason;
    }

    public AuditEvent? Event { get; }

    public string? Error { get; }

    /// <summary>The class of the rejection (meaningful only when <see cref="IsSuccess"/> is false), the metric's reason label.</summary>
    public RejectReason Reason { get; }

    /// <summary>A well-formed type the mapping table does not list; stored with the generic rule and counted.</summary>
    public bool IsUnknownType { get; }

    [MemberNotNullWhen(true, nameof(Event))]
    [MemberNotNullWhen(false, nameof(Error))]
    public bool IsSuccess => Event is not null;

    public static NormalizeResult Ok(AuditEvent e, bool unknownType = false) => new(e, null, unknownType, default);

    public static NormalizeResult Reject(string error, RejectReason reason = RejectReason.Internal) => new(null, error, false, reason);
}
