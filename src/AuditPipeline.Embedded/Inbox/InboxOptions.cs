using AuditPipeline.Core.Configuration;

namespace AuditPipeline.Embedded.Inbox;

/// <summary>
/// <code>
/// "Inbox": { "Path": "./inbox", "PollInterval": "00:00:00.250", "QuietPeriod": "00:00:02" }
/// </code>
/// The source is on only when <c>Inbox:Path</c> is set.
/// </summary>
public sealed class InboxOptions
{
    public const string SectionName = "Inbox";

    /// <summary>Directory whose <c>*.jsonl</c> files are tailed; the file name prefix (crm-, auth-, ai-, platform-) is the kind.</summary>
    public string? Path { get; set; }

    /// <summary>How often the directory is looked at for new files and appended lines.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How long a file must stay unchanged before a final line without a newline is read: until then a
    /// producer may be in the middle of writing it. 0 reads such a line at once.
    /// </summary>
    public TimeSpan QuietPeriod { get; set; } = TimeSpan.FromSeconds(2);
}

internal sealed class InboxOptionsValidator : ConfigurationValidator<InboxOptions>
{
    public override IEnumerable<string> Problems(InboxOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Path))
        {
            errors.Add($"{InboxOptions.SectionName}:Path must not be empty.");
        }
        else
        {
            try
            {
                Directory.CreateDirectory(options.Path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                errors.Add($"{InboxOptions.SectionName}:Path '{options.Path}' cannot be used as a directory: {ex.Message}");
            }
        }

        if (options.PollInterval <= TimeSpan.Zero)
        {
            errors.Add($"{InboxOptions.SectionName}:PollInterval must be positive (was {options.PollInterval}).");
        }

        if (options.QuietPeriod < TimeSpan.Zero || options.QuietPeriod > TimeSpan.FromHours(1))
        {
            errors.Add($"{InboxOptions.SectionName}:QuietPeriod must be between 00:00:00 and 01:00:00 (was {options.QuietPeriod}).");
        }

        return errors;
    }
}
