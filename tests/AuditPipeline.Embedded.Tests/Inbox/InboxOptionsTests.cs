using AuditPipeline.Embedded.Inbox;
using AuditPipeline.Testing;

namespace AuditPipeline.Embedded.Tests.Inbox;

public sealed class InboxOptionsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("-00:00:01")]
    [InlineData("01:00:01")]
    public void A_quiet_period_below_zero_or_above_an_hour_is_refused_naming_the_key(string quiet)
    {
        var result = new InboxOptionsValidator().Validate(null, new InboxOptions { Path = _dir.Path, QuietPeriod = TimeSpan.Parse(quiet, System.Globalization.CultureInfo.InvariantCulture) });

        Assert.True(result.Failed);
        Assert.Contains("Inbox:QuietPeriod", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void The_default_quiet_period_is_two_seconds_and_zero_is_allowed()
    {
        Assert.Equal(TimeSpan.FromSeconds(2), new InboxOptions().QuietPeriod);
        Assert.True(new InboxOptionsValidator().Validate(null, new InboxOptions { Path = _dir.Path, QuietPeriod = TimeSpan.Zero }).Succeeded);
    }

    [Theory]
    [InlineData("crm-2026.jsonl", true, false)]
    [InlineData("crm-2026.jsonl.1", false, true)]
    [InlineData("crm-2026.jsonl.12", false, true)]
    [InlineData("crm-2026.jsonl.1.gz", false, false)]
    [InlineData("_deadletter.jsonl.rejected", false, false)]
    [InlineData("crm-2026.jsonl.", false, false)]
    public void Input_and_rotated_names_are_told_apart(string name, bool input, bool rotated)
    {
        Assert.Equal(input, InboxNames.IsInput(name));
        Assert.Equal(rotated, InboxNames.IsRotated(name));
    }
}
