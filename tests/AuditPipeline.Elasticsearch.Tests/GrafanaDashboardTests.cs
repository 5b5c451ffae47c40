using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AuditPipeline.Core.Diagnostics;
using AuditPipeline.Elasticsearch.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace AuditPipeline.Elasticsearch.Tests;

/// <summary>
/// dashboards/grafana-audit-pipeline.json: an importable Grafana dashboard whose every query names
/// only series the worker exports (its meter's instruments as the Prometheus exporter names them),
/// covering rates, lag, dead letters by reason and store latency.
/// </summary>
public sealed partial class GrafanaDashboardTests
{
    private static readonly JsonObject Dashboard = JsonNode.Parse(File.ReadAllText(RepositoryFiles.Path("dashboards", "grafana-audit-pipeline.json")))!.AsObject();

    /// <summary>The worker's series, from its own instruments: counters get <c>_total</c>, a seconds histogram <c>_seconds_bucket/_count/_sum</c>.</summary>
    private static HashSet<string> ExportedSeries()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var metrics = new AuditMetrics(services.GetRequiredService<IMeterFactory>());
        var series = new HashSet<string>(StringComparer.Ordinal);
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name != AuditMetrics.MeterName)
                {
                    return;
                }

                switch (instrument)
                {
                    case Counter<long>:
                        series.Add(instrument.Name + "_total");
                        break;
                    case Histogram<double> when instrument.Unit == "s":
                        series.UnionWith([instrument.Name + "_seconds_bucket", instrument.Name + "_seconds_count", instrument.Name + "_seconds_sum"]);
                        break;
                    default:
                        series.Add(instrument.Name);
                        break;
                }
            },
        };
        listener.Start();
        return series;
    }

    private static List<(string Title, string Expr)> Queries() =>
        [.. Dashboard["panels"]!.AsArray().SelectMany(p => p!["targets"]!.AsArray().Select(t => ((string)p["title"]!, (string)t!["expr"]!)))];

    [Fact]
    public void Every_query_names_only_series_the_worker_exports()
    {
        var exported = ExportedSeries();
        Assert.Contains("audit_events_dead_lettered_total", exported);

        foreach (var (title, expr) in Queries())
        {
            var names = SeriesName().Matches(expr).Select(m => m.Value).ToList();
            Assert.NotEmpty(names);
            Assert.All(names, n => Assert.True(exported.Contains(n), $"panel '{title}' queries {n}, which the worker does not export ({string.Join(", ", exported)})"));
        }
    }

    [Fact]
    public void It_shows_rates_lag_dead_letters_by_reason_and_store_latency()
    {
        var queries = Queries().Select(q => q.Expr).ToList();

        Assert.Contains(queries, q => q.Contains("rate(audit_events_stored_total", StringComparison.Ordinal));
        Assert.Contains(queries, q => q.Contains("rate(audit_events_consumed_total", StringComparison.Ordinal));
        Assert.Contains(queries, q => q.Contains("audit_consumer_lag", StringComparison.Ordinal));
        Assert.Contains(queries, q => q.Contains("sum by (kind, reason)", StringComparison.Ordinal) && q.Contains("audit_events_dead_lettered_total", StringComparison.Ordinal));
        Assert.Contains(queries, q => q.StartsWith("histogram_quantile(0.99", StringComparison.Ordinal) && q.Contains("audit_store_write_duration_seconds_bucket", StringComparison.Ordinal));
    }

    [Fact]
    public void It_imports_into_Grafana_with_a_Prometheus_data_source_chosen_at_import()
    {
        Assert.Equal("DS_PROMETHEUS", (string)Dashboard["__inputs"]![0]!["name"]!);
        Assert.Equal("prometheus", (string)Dashboard["__inputs"]![0]!["pluginId"]!);
        Assert.True((int)Dashboard["schemaVersion"]! >= 36);
        var ids = new HashSet<int>();
        foreach (var panel in Dashboard["panels"]!.AsArray())
        {
            Assert.True(ids.Add((int)panel!["id"]!), "panel ids are unique");
            Assert.Equal("${DS_PROMETHEUS}", (string)panel["datasource"]!["uid"]!);
            var grid = panel["gridPos"]!;
            Assert.InRange((int)grid["x"]! + (int)grid["w"]!, 1, 24);
        }
    }

    [GeneratedRegex(@"\baudit_[a-z_]+")]
    private static partial Regex SeriesName();
}
