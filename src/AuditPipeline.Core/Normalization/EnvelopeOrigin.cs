namespace AuditPipeline.Core.Normalization;

/// <summary>Where an Outsprint envelope (crm, platform) came from: the source's display name, ip and user agent (the request id goes to the details: <see cref="EnvelopeRules.AddRequestId"/>).</summary>
internal readonly record struct EnvelopeOrigin(string Source, string? Ip, string? UserAgent);
