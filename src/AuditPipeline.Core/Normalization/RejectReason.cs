namespace AuditPipeline.Core.Normalization;

/// <summary>
/// The class of a rejection: a small closed set, so <c>audit_events_dead_lettered_total{reason}</c>
/// stays a handful of series however many distinct sentences the reasons hold.
/// </summary>
public enum RejectReason
{
    /// <summary>Not UTF-8, not JSON, or not a JSON object.</summary>
    InvalidJson,

    /// <summary>A required field is absent or null.</summary>
    MissingField,

    /// <summary>A field of the wrong JSON type.</summary>
    WrongType,

    /// <summary>A field of the right type whose value the contract refuses (empty id, bad type, not an instant...).</summary>
    InvalidValue,

    /// <summary>Larger than MaxMessageBytes.</summary>
    TooLarge,

    /// <summary>A string or member name holding an unpaired UTF-16 surrogate: it cannot be stored faithfully.</summary>
    UnstorableText,

    /// <summary>Objects and arrays nested deeper than 64 levels.</summary>
    TooDeep,

    /// <summary>A time too far in the future or already past its organisation's retention.</summary>
    ImplausibleTime,

    /// <summary>The store refused the event for good.</summary>
    StoreRejected,

    /// <summary>Anything else: an unexpected failure turned into a rejection rather than a crash.</summary>
    Internal,
}
