using AuditPipeline.Core.Configuration;

namespace AuditPipeline.Core.Ingest;

/// <summary>Every problem with the <c>Ingest</c> section (and the top-level <c>MaxMessageBytes</c>), each naming its key.</summary>
public sealed class IngestOptionsValidator : ConfigurationValidator<IngestOptions>
{
    private const string S = IngestOptions.SectionName;

    public override IEnumerable<string> Problems(IngestOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Check(options);
    }

    private static IEnumerable<string> Check(IngestOptions o)
    {
        if (o.ChannelCapacity < 1)
        {
            yield return $"{S}:ChannelCapacity must be at least 1 (was {o.ChannelCapacity}).";
        }

        if (o.BatchSize is < 1 or > 100_000)
        {
            yield return $"{S}:BatchSize must be 1 to 100000 (was {o.BatchSize}).";
        }

        if (o.BatchDelay < TimeSpan.Zero)
        {
            yield return $"{S}:BatchDelay must not be negative (was {o.BatchDelay}).";
        }

        if (o.MaxMessageBytes < 1)
        {
            yield return $"{S}:MaxMessageBytes must be positive (was {o.MaxMessageBytes}).";
        }

        if (o.MaxBufferedBytes < 1)
        {
            yield return $"{S}:MaxBufferedBytes must be positive (was {o.MaxBufferedBytes}).";
        }

        if (o.MaxFutureSkew < TimeSpan.Zero || o.MaxFutureSkew > TimeSpan.FromDays(3650))
        {
            yield return $"{S}:MaxFutureSkew must be a duration from 00:00:00 to 3650.00:00:00 (was {o.MaxFutureSkew}).";
        }

        if (o.RetryMin <= TimeSpan.Zero || o.RetryMax < o.RetryMin)
        {
            yield return $"{S}:RetryMin must be positive and {S}:RetryMax at least RetryMin.";
        }
    }
}
