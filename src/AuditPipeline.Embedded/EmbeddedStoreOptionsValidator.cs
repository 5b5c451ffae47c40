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
