using AuditPipeline.Core.Configuration;

namespace AuditPipeline.Embedded.Inbox;

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
