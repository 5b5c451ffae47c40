namespace AuditPipeline.Core.Integrity;

/// <summary>
/// A place sealed digests are published to besides the digest directory (the store's own copy, a Kafka
/// topic). Publishing the same digest again must be harmless: the sealer retries until every sink took it.
/// </summary>
public interface IDigestSink
{
    /// <summary>A short name for logs, e.g. "kafka".</summary>
    string Name { get; }

    /// <param name="digest">The signed digest.</param>
    /// <param name="canonical">Its canonical bytes (<see cref="DigestCodec.Encode"/>).</param>
    Task PublishAsync(Digest digest, ReadOnlyMemory<byte> canonical, CancellationToken cancellationToken);
}

/// <summary>
/// The store's own copy of the digests, which the API serves. It is within the store owner's reach,
/// so verification never trusts it; it is there so an auditor can fetch digests with an export.
/// </summary>
public interface IDigestStoreCopy : IDigestSink
{
    /// <summary>The digests of one organisation, seq ascending, whose covered event times meet [from, to).</summary>
    IAsyncEnumerable<Digest> ReadAsync(string orgId, DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken);
}
