namespace AuditPipeline.Core.Normalization;

/// <summary>Where an Outsprint envelope (crm, platform) came from: the source's display name, ip, user agent and request id.</summary>
internal readonly record struct EnvelopeOrigin(string Source, string? Ip, string? UserAgent, string? RequestId);
