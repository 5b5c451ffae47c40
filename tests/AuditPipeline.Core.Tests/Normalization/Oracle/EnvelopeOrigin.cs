// The normalizer as it was before the single-pass reader (commit e7208cd), kept verbatim but for
// its namespace as the oracle of NormalizationDifferentialTests. Not product code: do not change it.
namespace AuditPipeline.Core.Tests.Normalization.Oracle;

/// <summary>Where an Outsprint envelope (crm, platform) came from: the source's display name, ip, user agent and request id.</summary>
internal readonly record struct EnvelopeOrigin(string Source, string? Ip, string? UserAgent, string? RequestId);
