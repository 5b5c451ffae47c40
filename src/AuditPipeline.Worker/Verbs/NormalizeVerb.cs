using System.Text.Json;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Ingest;
using AuditPipeline.Core.Normalization;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Worker.Verbs;

/// <summary>
/// <c>normalize --kind &lt;kind&gt; [file]</c>: raw JSONL in, AuditEvent JSONL out in input order; one
/// <c>line N: reason</c> per rejected message on stderr; blank lines skipped; exit 1 if any was rejected.
/// Useful on its own for producers checking their payloads.
/// </summary>
internal static class NormalizeVerb
{
    public static async Task<int> RunAsync(string[] args, Stream stdin, Stream stdout, TextWriter stderr)
    {
        string? kindName = null;
        string? file = null;
        var maxBytes = new IngestOptions().MaxMessageBytes;
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
            else if (a.StartsWith("--MaxMessageBytes=", StringComparison.OrdinalIgnoreCase) ||
                     a.StartsWith("--Ingest:MaxMessageBytes=", StringComparison.OrdinalIgnoreCase))
            {
                if (!int.TryParse(a[(a.IndexOf('=', StringComparison.Ordinal) + 1)..], out maxBytes) || maxBytes < 1)
                {
                    await stderr.WriteLineAsync($"MaxMessageBytes must be a positive integer (was '{a}').");
                    return 2;
                }
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

        var normalizer = new AuditNormalizer(Options.Create(new IngestOptions { MaxMessageBytes = maxBytes }));
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
}
