using System.Text.Json;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Ingest;
using AuditPipeline.Core.Normalization;
using AuditPipeline.Core.Retention;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Worker.Verbs;

/// <summary>
/// <c>normalize --kind &lt;kind&gt; [file]</c>: raw JSONL in, AuditEvent JSONL out in input order; one
/// <c>line N: reason</c> per rejected message on stderr; blank lines skipped; exit 1 if any was rejected.
/// Useful on its own for producers checking their payloads. The rules are ingestion's, times included:
/// plausible against the current time and the Retention section's plans.
/// </summary>
internal static class NormalizeVerb
{
    public static async Task<int> RunAsync(string[] args, Stream stdin, Stream stdout, TextWriter stderr)
    {
        string? kindName = null;
        string? file = null;
        var switches = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (a == "--kind" && i + 1 < args.Length)
            {
                kindName = args[++i];
            }
            else if (a.StartsWith("--kind=", StringComparison.Ordinal))
            {
                kindName = a["--kind=".Length..];
            }
            else if (a.StartsWith("--", StringComparison.Ordinal) && a.Contains('=', StringComparison.Ordinal) &&
                     (a.Contains(':', StringComparison.Ordinal) || a.StartsWith("--MaxMessageBytes=", StringComparison.OrdinalIgnoreCase)))
            {
                // Configuration, as for run: --Ingest:MaxFutureSkew=, --Retention:Orgs:org_42:Plan=, --MaxMessageBytes=.
                switches.Add(a);
            }
            else if (!a.StartsWith('-') && file is null)
            {
                file = a;
            }
            else
            {
                await stderr.WriteLineAsync($"Unexpected argument '{a}'.\n{VerbDispatcher.Usage}");
                return 2;
            }
        }

        if (Configure(switches, out var ingest, out var registry) is { } problems)
        {
            await stderr.WriteLineAsync(problems);
            return 2;
        }

        if (!SourceKinds.TryParse(kindName, out var kind))
        {
            await stderr.WriteLineAsync(kindName is null
                ? "normalize needs --kind <kind>: one of crm, auth, ai, platform."
                : $"--kind '{kindName}' is not one of crm, auth, ai, platform.");
            return 2;
        }

        Stream input;
        try
        {
            input = file is null ? stdin : File.OpenRead(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"Cannot read '{file}': {ex.Message}");
            return 2;
        }

        var normalizer = new AuditNormalizer(Options.Create(ingest), registry);
        var rejected = 0;
        await using (input)
        await using (var output = new BufferedStream(stdout, 64 * 1024))
        {
            await using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true, Encoder = AuditJson.Options.Encoder });
            var lineNumber = 0;

            // Lines are read as bytes, so a producer's invalid UTF-8 is reported, not silently replaced.
            await foreach (var line in JsonLines.ReadAsync(input, CancellationToken.None))
            {
                lineNumber++;
                if (JsonLines.IsBlank(line.Span))
                {
                    continue;
                }

                var result = normalizer.Normalize(kind, line, DateTimeOffset.UtcNow);
                if (result.IsSuccess)
                {
                    AuditJson.Serialize(writer, result.Event);
                    await writer.FlushAsync();
                    writer.Reset();
                    output.WriteByte((byte)'\n');
                }
                else
                {
                    rejected++;
                    await stderr.WriteLineAsync($"line {lineNumber}: {result.Error}");
                }
            }
        }

        return rejected > 0 ? 1 : 0;
    }

    /// <summary>
    /// The same rules as ingestion: appsettings.json, environment variables and the switches give the
    /// Ingest options (MaxMessageBytes, MaxFutureSkew) and the Retention plans the time checks use.
    /// </summary>
    private static string? Configure(List<string> switches, out IngestOptions ingest, out RetentionPlanRegistry registry)
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine([.. switches])
            .Build();
        ingest = new IngestOptions();
        var retention = new RetentionOptions();
        registry = null!;
        try
        {
            configuration.GetSection(IngestOptions.SectionName).Bind(ingest);
            configuration.GetSection(RetentionOptions.SectionName).Bind(retention);
            if (configuration.GetValue<int?>("MaxMessageBytes") is { } top)
            {
                ingest.MaxMessageBytes = top;
            }
        }
        catch (InvalidOperationException ex)
        {
            return $"Invalid configuration: {ex.Message}";
        }

        var problems = new IngestOptionsValidator().Problems(ingest).Concat(new RetentionOptionsValidator().Problems(retention)).ToList();
        if (problems.Count > 0)
        {
            return string.Join('\n', problems);
        }

        registry = new RetentionPlanRegistry(Options.Create(retention));
        return null;
    }
}
