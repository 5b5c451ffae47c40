using Microsoft.Extensions.Options;

namespace AuditPipeline.Api.Exports;

/// <summary>Why an export request was turned away (the metric's <c>reason</c> label).</summary>
internal static class ExportRefusals
{
    public const string PerKey = "per_key";
    public const string Global = "global";
    public const string DiskSpace = "disk_space";
}

/// <summary>
/// Counts the exports queued or running, per API key and in all, so that one key cannot fill the
/// worker's queue (<c>Exports:MaxActivePerKey</c>) and the worker's queue stays bounded
/// (<c>Exports:MaxActive</c>). Admission and counting happen under one lock, so two requests racing for
/// the last slot never both get it. Jobs taken over from a previous process are counted without a check:
/// they were admitted once already.
/// </summary>
internal sealed class ExportAdmission(IOptions<ExportOptions> options, ApiMetrics metrics)
{
    /// <summary>What a refused client is told to wait: an export typically takes seconds to minutes.</summary>
    public const int RetryAfterSeconds = 30;

    private readonly ExportOptions _options = options.Value;
    private readonly Lock _lock = new();

    // job id → the key that asked for it
    private readonly Dictionary<string, string> _active = new(StringComparer.Ordinal);

    /// <summary>Counts the job and returns null, or returns the refusal reason and counts nothing.</summary>
    public string? TryAdmit(string exportId, string keyName)
    {
        string? refusal = null;
        lock (_lock)
        {
            if (_active.Count >= _options.MaxActive)
            {
                refusal = ExportRefusals.Global;
            }
            else if (_active.Values.Count(k => string.Equals(k, keyName, StringComparison.Ordinal)) >= _options.MaxActivePerKey)
            {
                refusal = ExportRefusals.PerKey;
            }
            else
            {
                _active[exportId] = keyName;
            }
        }

        if (refusal is not null)
        {
            metrics.ExportRefused(refusal);
        }

        return refusal;
    }

    public void Track(string exportId, string keyName)
    {
        lock (_lock)
        {
            _active[exportId] = keyName;
        }
    }

    /// <summary>The job finished (completed, failed, or could not be run); idempotent.</summary>
    public void Release(string exportId)
    {
        lock (_lock)
        {
            _active.Remove(exportId);
        }
    }

    public int Active
    {
        get
        {
            lock (_lock)
            {
                return _active.Count;
            }
        }
    }
}
