using System.Text.Json.Nodes;
using AuditPipeline.Core.Retention;

namespace AuditPipeline.Elasticsearch;

/// <summary>One idempotent request of the setup: a PUT of a policy, template or role.</summary>
/// <summary>
/// One idempotent request of the setup: a PUT of a policy, template or role. <see cref="DependsOn"/>
/// names the requests it refers to: it is not sent when one of them was refused.
/// </summary>
internal sealed record SetupRequest(string Method, string Path, JsonObject Body, bool RequiresSecurity = false, IReadOnlyList<string>? DependsOn = null);

/// <summary>
/// Everything the cluster needs before the first write: an ILM policy per retention class, the
/// component and index templates of <c>audit-events-{class}-*</c> (month and late-arrival indices
/// alike), and the writer and reader roles.
/// </summary>
internal sealed class ElasticsearchSetupDefinitions(int lateArrivalDays, int archiveAfterDays, string? snapshotRepository)
{
    /// <summary>Where enterprise data is archived as searchable snapshots; null: cold nodes.</summary>
    public string? SnapshotRepository => string.IsNullOrWhiteSpace(snapshotRepository) ? null : snapshotRepository;

    /// <summary>The same definitions archiving to cold nodes (the cluster cannot take searchable snapshots).</summary>
    public ElasticsearchSetupDefinitions WithoutSnapshots() => new(lateArrivalDays, archiveAfterDays, null);

    public const string SettingsComponent = "audit-events-settings";
    public const string MappingsComponent = "audit-events-mappings";
    public const string WriterRole = "audit_writer";
    public const string ReaderRole = "audit_reader";

    /// <summary>Never read-only earlier than this, whatever the configuration says.</summary>
    public const int MinReadOnlyDays = 38;

    /// <summary>Days from the month's first day until its index turns read-only: a full month plus the late-arrival window.</summary>
    public int ReadOnlyAfterDays => Math.Max(MinReadOnlyDays, 31 + lateArrivalDays);

    public int ArchiveAfterDays(RetentionClass c) => Math.Max(archiveAfterDays, ReadOnlyAfterDays);

    /// <summary>
    /// Days from the month's first day until its index is deleted: the retention period (years of
    /// 366 days) counted from the month's last day, so no event is deleted early.
    /// </summary>
    public static int DeleteAfterDays(RetentionClass c) => (c.Years * RetentionClass.DaysPerYear) + 31;

    public IReadOnlyList<SetupRequest> All()
    {
        var list = new List<SetupRequest>();
        foreach (var c in RetentionClass.All)
        {
            list.Add(new SetupRequest("PUT", $"/_ilm/policy/{AuditIndices.PolicyName(c)}", Policy(c)));
        }

        list.Add(new SetupRequest("PUT", $"/_component_template/{SettingsComponent}", SettingsTemplate()));
        list.Add(new SetupRequest("PUT", $"/_component_template/{MappingsComponent}", MappingsTemplate()));
        foreach (var c in RetentionClass.All)
        {
            list.Add(new SetupRequest(
                "PUT",
                $"/_index_template/{AuditIndices.PolicyName(c)}",
                IndexTemplate(c),
                DependsOn: [$"/_ilm/policy/{AuditIndices.PolicyName(c)}", $"/_component_template/{SettingsComponent}", $"/_component_template/{MappingsComponent}"]));
        }

        // The cluster's own copy of the integrity digests, write-once like the events.
        list.Add(new SetupRequest("PUT", $"/_index_template/{ElasticsearchDigestCopy.IndexName}", JsonNode.Parse(ElasticsearchDigestCopy.IndexTemplate)!.AsObject()));
        list.Add(new SetupRequest("PUT", $"/_security/role/{WriterRole}", WriterRoleBody(), RequiresSecurity: true));
        list.Add(new SetupRequest("PUT", $"/_security/role/{ReaderRole}", ReaderRoleBody(), RequiresSecurity: true));
        return list;
    }

    public JsonObject Policy(RetentionClass c)
    {
        var phases = new JsonObject
        {
            ["hot"] = new JsonObject
            {
                ["min_age"] = "0ms",
                ["actions"] = new JsonObject { ["set_priority"] = new JsonObject { ["priority"] = 100 } },
            },
            ["warm"] = new JsonObject
            {
                ["min_age"] = $"{ReadOnlyAfterDays}d",
                ["actions"] = new JsonObject
                {
                    ["readonly"] = new JsonObject(),
                    ["forcemerge"] = new JsonObject { ["max_num_segments"] = 1 },
                    ["set_priority"] = new JsonObject { ["priority"] = 50 },
                },
            },
        };

        // An archive age past the deletion age would only be skipped; leave the phase out instead.
        if (c.Archives && ArchiveAfterDays(c) < DeleteAfterDays(c))
        {
            var cold = new JsonObject { ["set_priority"] = new JsonObject { ["priority"] = 0 } };
            if (SnapshotRepository is { } repository)
            {
                cold["searchable_snapshot"] = new JsonObject { ["snapshot_repository"] = repository };
            }
            else
            {
                cold["migrate"] = new JsonObject { ["enabled"] = true };
            }

            phases["cold"] = new JsonObject { ["min_age"] = $"{ArchiveAfterDays(c)}d", ["actions"] = cold };
        }

        phases["delete"] = new JsonObject
        {
            ["min_age"] = $"{DeleteAfterDays(c)}d",
            ["actions"] = new JsonObject { ["delete"] = new JsonObject() },
        };

        return new JsonObject
        {
            ["policy"] = new JsonObject
            {
                ["_meta"] = new JsonObject
                {
                    ["description"] = $"Audit events of retention class {c.Name}: ages count from the month in the index name.",
                    ["managed_by"] = "AuditPipeline",
                },
                ["phases"] = phases,
            },
        };
    }

    public static JsonObject SettingsTemplate() => new()
    {
        ["template"] = new JsonObject
        {
            ["settings"] = new JsonObject
            {
                ["index.number_of_shards"] = 1,
                ["index.auto_expand_replicas"] = "0-1",
                ["index.refresh_interval"] = "1s",
                ["index.lifecycle.parse_origination_date"] = true,
            },
        },
        ["_meta"] = new JsonObject { ["managed_by"] = "AuditPipeline" },
    };

    public static JsonObject MappingsTemplate() => new()
    {
        ["template"] = new JsonObject { ["mappings"] = AuditIndices.Mapping() },
        ["_meta"] = new JsonObject { ["managed_by"] = "AuditPipeline" },
    };

    public static JsonObject IndexTemplate(RetentionClass c) => new()
    {
        ["index_patterns"] = new JsonArray(AuditIndices.ClassPattern(c)),
        ["composed_of"] = new JsonArray(SettingsComponent, MappingsComponent),
        ["priority"] = 500,
        ["template"] = new JsonObject
        {
            ["settings"] = new JsonObject
            {
                ["index.lifecycle.name"] = AuditIndices.PolicyName(c),
                ["index.lifecycle.parse_origination_date"] = true,
            },
        },
        ["_meta"] = new JsonObject
        {
            ["managed_by"] = "AuditPipeline",
            ["description"] = $"Monthly and late-arrival audit indices of retention class {c.Name}.",
        },
    };

    /// <summary>
    /// Write-once: <c>create_doc</c> only (no index, update or delete), <c>auto_configure</c> so a
    /// new month's index is created by its first write (from the templates, with their settings),
    /// and <c>view_index_metadata</c>. Not <c>create_index</c>: that would let the writer create a
    /// month index with settings of its own (say an origination date that makes ILM delete it at
    /// once). The ingest user also holds <see cref="ReaderRole"/>: the store searches for stored
    /// copies of a batch, reads the owner of a conflicting id (409) and checks late arrivals.
    /// </summary>
    public static JsonObject WriterRoleBody() => new()
    {
        ["cluster"] = new JsonArray(),
        ["indices"] = new JsonArray(new JsonObject
        {
            ["names"] = new JsonArray(AuditIndices.AllPattern, ElasticsearchDigestCopy.IndexName),
            ["privileges"] = new JsonArray("create_doc", "auto_configure", "view_index_metadata"),
        }),
        ["metadata"] = new JsonObject
        {
            ["managed_by"] = "AuditPipeline",
            ["description"] = "Appends audit events; cannot overwrite or delete them.",
        },
    };

    public static JsonObject ReaderRoleBody() => new()
    {
        ["cluster"] = new JsonArray(),
        ["indices"] = new JsonArray(new JsonObject
        {
            ["names"] = new JsonArray(AuditIndices.AllPattern, ElasticsearchDigestCopy.IndexName),
            ["privileges"] = new JsonArray("read"),
        }),
        ["metadata"] = new JsonObject
        {
            ["managed_by"] = "AuditPipeline",
            ["description"] = "Reads audit events for the query facade.",
        },
    };
}
