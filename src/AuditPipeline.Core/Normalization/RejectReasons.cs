namespace AuditPipeline.Core.Normalization;

public static class RejectReasons
{
    /// <summary>The metric label: invalid_json, missing_field, wrong_type, invalid_value, too_large, unstorable_text, too_deep, implausible_time, store_rejected, internal.</summary>
    public static string Label(this RejectReason reason) => reason switch
    {
        RejectReason.InvalidJson => "invalid_json",
        RejectReason.MissingField => "missing_field",
        RejectReason.WrongType => "wrong_type",
        RejectReason.InvalidValue => "invalid_value",
        RejectReason.TooLarge => "too_large",
        RejectReason.UnstorableText => "unstorable_text",
        RejectReason.TooDeep => "too_deep",
        RejectReason.ImplausibleTime => "implausible_time",
        RejectReason.StoreRejected => "store_rejected",
        _ => "internal",
    };
}
