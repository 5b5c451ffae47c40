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
