using System.Diagnostics.Metrics;
using AuditPipeline.Core.Diagnostics;

namespace AuditPipeline.Api;

/// <summary>
/// The facade's limit counters, on the pipeline's meter (so the worker's Prometheus endpoint exports
/// them next to the ingest counters): <c>audit_api_requests_cut_off_total{endpoint}</c> for requests
/// ended by a time budget and <c>audit_api_exports_refused_total{reason}</c> for export jobs refused
/// or failed by a cap (<c>per_key</c>, <c>global</c>, <c>disk_space</c>).
/// </summary>
internal sealed class ApiMetrics : IDisposable
{
    public const string CutOffName = "audit_api_requests_cut_off";
    public const string ExportsRefusedName = "audit_api_exports_refused";

    private readonly Meter _meter;
    private readonly Counter<long> _cutOff;
    private readonly Counter<long> _exportsRefused;

    public ApiMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(AuditMetrics.MeterName);
        _cutOff = _meter.CreateCounter<long>(CutOffName, description: "Query facade requests ended by their time budget (Api:QueryTimeout, Api:CsvTimeout).");
        _exportsRefused = _meter.CreateCounter<long>(ExportsRefusedName, description: "Export jobs refused (per_key, global) or failed for lack of disk space (disk_space).");
    }

    public void CutOff(string endpoint) => _cutOff.Add(1, new KeyValuePair<string, object?>("endpoint", endpoint));

    public void ExportRefused(string reason) => _exportsRefused.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Dispose() => _meter.Dispose();
}
