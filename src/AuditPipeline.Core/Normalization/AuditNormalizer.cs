using AuditPipeline.Core.Ingest;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Core.Normalization;

/// <summary>Turns a raw message of any of the four kinds into one <see cref="Events.AuditEvent"/>, or a reason.</summary>
public sealed class AuditNormalizer(IOptions<IngestOptions> options)
{
    private readonly int _maxBytes = options.Value.MaxMessageBytes;

    public AuditNormalizer()
        : this(Options.Create(new IngestOptions()))
    {
    }

    /// <summary>Never throws: any bytes give an event or a reason.</summary>
    public NormalizeResult Normalize(SourceKind kind, ReadOnlySpan<byte> utf8, DateTimeOffset receivedAt)
    {
        if (utf8.Length > _maxBytes)
        {
            return NormalizeResult.Reject($"the message is {utf8.Length} bytes, larger than the limit of {_maxBytes} bytes (MaxMessageBytes)");
        }

        return NormalizeResult.Reject($"normalization of {kind.Name()} is not built yet");
    }
}
