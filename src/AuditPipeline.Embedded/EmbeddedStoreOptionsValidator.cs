using AuditPipeline.Core.Configuration;

namespace AuditPipeline.Embedded;

internal sealed class EmbeddedStoreOptionsValidator : ConfigurationValidator<EmbeddedStoreOptions>
{
    public override IEnumerable<string> Problems(EmbeddedStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Path))
        {
            errors.Add($"{EmbeddedStoreOptions.SectionName}:Path must not be empty.");
            return errors;
        }

        if (options.MaxScanRows < 1000)
        {
            errors.Add($"{EmbeddedStoreOptions.SectionName}:MaxScanRows must be at least 1000 (it is {options.MaxScanRows}).");
        }

        if (options.MergeRows is < 64 or > 1_000_000)
        {
            errors.Add($"{EmbeddedStoreOptions.SectionName}:MergeRows must be 64 to 1000000 (it is {options.MergeRows}).");
        }

        if (options.MergeCacheMiB is < 64 or > 65536)
        {
            errors.Add($"{EmbeddedStoreOptions.SectionName}:MergeCacheMiB must be 64 to 65536 (it is {options.MergeCacheMiB}).");
        }

        if (options.MergeAfter <= TimeSpan.Zero || options.MergeAfter > TimeSpan.FromHours(1))
        {
            errors.Add($"{EmbeddedStoreOptions.SectionName}:MergeAfter must be positive and at most 01:00:00 (it is {options.MergeAfter}).");
        }

        if (!string.Equals(options.Synchronous, "Full", StringComparison.OrdinalIgnoreCase) &&
            !string.Equals(options.Synchronous, "Normal", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"{EmbeddedStoreOptions.SectionName}:Synchronous must be Full or Normal (it is '{options.Synchronous}').");
        }

        if (options.ReadOnly)
        {
            // A read-only store creates nothing. A missing directory reads as an empty store: verify then
            // names every sealed event as missing instead of refusing to look (a deleted store is tampering too).
            return errors;
        }

        CheckDirectory($"{EmbeddedStoreOptions.SectionName}:Path", options.Path, errors);
        if (options.ArchivePath is not null && string.IsNullOrWhiteSpace(options.ArchivePath))
        {
            errors.Add($"{EmbeddedStoreOptions.SectionName}:ArchivePath must not be blank (leave it out for <Path>/archive).");
        }
        else if (string.Equals(System.IO.Path.GetFullPath(options.ResolvedArchivePath), System.IO.Path.GetFullPath(options.Path), StringComparison.Ordinal))
        {
            errors.Add($"{EmbeddedStoreOptions.SectionName}:ArchivePath must differ from {EmbeddedStoreOptions.SectionName}:Path.");
        }
        else
        {
            CheckDirectory($"{EmbeddedStoreOptions.SectionName}:ArchivePath", options.ResolvedArchivePath, errors);
        }

        return errors;
    }

    private static void CheckDirectory(string key, string path, List<string> errors)
    {
        try
        {
            Directory.CreateDirectory(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            errors.Add($"{key} '{path}' cannot be used as a directory: {ex.Message}");
        }
    }
}
