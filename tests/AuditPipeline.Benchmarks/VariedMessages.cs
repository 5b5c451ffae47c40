using System.Globalization;
using System.Text;
using AuditPipeline.Core.Normalization;
using AuditPipeline.Testing;

namespace AuditPipeline.Benchmarks;

/// <summary>
/// The examples of one kind varied the way a stream varies: every id, request id and record unique; 50
/// organisations of 20 users each (ids, names, e-mails and addresses of their own), eight user agents,
/// record names from 5,000, stages and amounts from small sets. <c>normalize-loop --varied</c> runs
/// through these in turn, so values that recur are shared as often as a stream like this lets them be.
/// </summary>
internal static class VariedMessages
{
    private const int Organisations = 50;
    private const int UsersPerOrganisation = 20;

    private static readonly string[] Agents =
    [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) Safari/605.1",
        "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0", "Outsprint-iOS/4.12", "Outsprint-Android/4.11", "curl/8.5.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1) Mobile/15E148", "python-requests/2.32",
    ];

    private static readonly string[] Stages = ["Lead", "Qualified", "Demo Scheduled", "Proposal Sent", "Negotiation", "Won", "Lost"];

    public static byte[][] For(SourceKind kind, int count)
    {
        var random = new Random(42);
        var messages = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            var org = random.Next(Organisations);
            var user = (org * UsersPerOrganisation) + random.Next(UsersPerOrganisation);
            var time = SamplePayloads.ExampleTime.AddSeconds(-i);
            var json = SamplePayloads.For(kind, $"evt_{i:x8}{kind.Name()}", $"org_{org:D3}", time)
                .Replace("usr_7", $"usr_{user:D5}", StringComparison.Ordinal)
                .Replace("Ana Silva", $"User {user} Person", StringComparison.Ordinal)
                .Replace("ana@acme.test", $"user{user}@org{org}.example", StringComparison.Ordinal)
                .Replace("203.0.113.5", $"10.{org}.{user % 256}.{user / 256}", StringComparison.Ordinal)
                .Replace("198.51.100.23", $"10.{org}.{user % 256}.{user / 256}", StringComparison.Ordinal)
                .Replace("Mozilla/5.0 ...", Agents[random.Next(Agents.Length)], StringComparison.Ordinal)
                .Replace("req_9", $"req_{random.NextInt64():x16}", StringComparison.Ordinal)
                .Replace("deal_123", $"deal_{random.Next(1_000_000)}", StringComparison.Ordinal)
                .Replace("Acme Corp Enterprise", $"Account {random.Next(5_000)} Enterprise", StringComparison.Ordinal)
                .Replace("Demo Scheduled", Stages[random.Next(Stages.Length)], StringComparison.Ordinal)
                .Replace("Proposal Sent", Stages[random.Next(Stages.Length)], StringComparison.Ordinal)
                .Replace("\"amount\":1000}", string.Create(CultureInfo.InvariantCulture, $"\"amount\":{random.Next(100) * 500}}}"), StringComparison.Ordinal)
                .Replace("conv_3", $"conv_{random.Next(100_000)}", StringComparison.Ordinal)
                .Replace("msg_17", $"msg_{i}", StringComparison.Ordinal)
                .Replace("imp_4", $"imp_{i}", StringComparison.Ordinal);
            messages[i] = Encoding.UTF8.GetBytes(json);
        }

        return messages;
    }
}
