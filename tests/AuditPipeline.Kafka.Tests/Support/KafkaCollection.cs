namespace AuditPipeline.Kafka.Tests.Support;

/// <summary>Tests on the mock cluster share one cluster and run one at a time (two cores are shared with other builds).</summary>
[CollectionDefinition(nameof(KafkaCollection))]
public sealed class KafkaCollection : ICollectionFixture<MockKafkaCluster>;
