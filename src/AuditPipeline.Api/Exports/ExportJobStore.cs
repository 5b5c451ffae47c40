using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Api.Exports;

/// <summary>
/// Job records and their CSV files under <c>Exports:Path</c>: <c>{id}.json</c> and <c>{id}.csv</c>
/// (written as <c>{id}.csv.partial</c> and renamed when complete). A record is replaced by writing a
/// temporary file, flushing it to disk and renaming it over the old one, so a crash leaves either the
/// old or the new record, never a torn one.
/// </summary>
internal sealed partial class ExportJobStore
{
    private readonly string _dir;

    // Serializes read-modify-write updates with deletion, so a late update never brings back a record
    // the cleanup has just deleted.
    private readonly SemaphoreSlim _gate = new(1, 1);

    public ExportJobStore(IOptions<ExportOptions> options)
    {
        _dir = Path.GetFullPath(options.Value.Path);
        Directory.CreateDirectory(_dir);
    }

    public static string NewId() => "exp_" + Guid.NewGuid().ToString("N");

    /// <summary>Ids come from URLs: only our own shape ever reaches the file system.</summary>
    public static bool IsValidId(string id) => IdShape().IsMatch(id);

    public string CsvPath(string id) => Path.Combine(_dir, id + ".csv");

    public string PartialPath(string id) => Path.Combine(_dir, id + ".csv.partial");

    private string RecordPath(string id) => Path.Combine(_dir, id + ".json");

    public async Task SaveAsync(ExportJob job, CancellationToken cancellationToken)
    {
        var path = RecordPath(job.Id);
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous))
        {
            await JsonSerializer.SerializeAsync(file, job, ApiJsonContext.Default.ExportJob, cancellationToken);
            await file.FlushAsync(cancellationToken);
            file.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    public async Task<ExportJob?> GetAsync(string id, CancellationToken cancellationToken)
    {
        if (!IsValidId(id))
        {
            return null;
        }

        try
        {
            await using var file = new FileStream(RecordPath(id), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096, FileOptions.Asynchronous);
            return await JsonSerializer.DeserializeAsync(file, ApiJsonContext.Default.ExportJob, cancellationToken);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public async Task<List<ExportJob>> AllAsync(CancellationToken cancellationToken)
    {
        var jobs = new List<ExportJob>();
        foreach (var path in Directory.EnumerateFiles(_dir, "exp_*.json"))
        {
            var id = Path.GetFileNameWithoutExtension(path);
            if (await GetAsync(id, cancellationToken) is { } job)
            {
                jobs.Add(job);
            }
        }

        return jobs;
    }

    /// <summary>Replaces a record only if it still exists; false when it was deleted meanwhile.</summary>
    public async Task<bool> UpdateIfPresentAsync(string id, Func<ExportJob, ExportJob> change, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (await GetAsync(id, cancellationToken) is not { } current)
            {
                return false;
            }

            await SaveAsync(change(current), cancellationToken);
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Delete(string id)
    {
        _gate.Wait();
        try
        {
            File.Delete(CsvPath(id));
            File.Delete(PartialPath(id));
            File.Delete(RecordPath(id));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Leftovers of interrupted writes (temporary records, partial CSVs of unknown jobs) older than the cut-off.</summary>
    public IEnumerable<string> StaleTemporaryFiles(DateTimeOffset olderThan) =>
        Directory.EnumerateFiles(_dir, "exp_*")
            .Where(p => p.EndsWith(".tmp", StringComparison.Ordinal) || p.EndsWith(".partial", StringComparison.Ordinal))
            .Where(p => File.GetLastWriteTimeUtc(p) < olderThan.UtcDateTime);

    [GeneratedRegex("^exp_[0-9a-f]{32}$", RegexOptions.CultureInvariant)]
    private static partial Regex IdShape();
}
