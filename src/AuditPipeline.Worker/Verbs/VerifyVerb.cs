using System.Globalization;
using AuditPipeline.Core.Configuration;
using AuditPipeline.Core.Integrity;
using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using AuditPipeline.Elasticsearch;
using AuditPipeline.Embedded;
using AuditPipeline.Integrity;
using AuditPipeline.Worker.Hosting;
using Microsoft.Extensions.Options;
using Serilog;

namespace AuditPipeline.Worker.Verbs;

/// <summary>
/// <c>verify [--org &lt;orgId&gt;] [--from &lt;iso&gt;] [--to &lt;iso&gt;] [--digests &lt;dir&gt;] [--public-key &lt;pem&gt;]</c>
/// (CONTRACT section 9): the configured store, read-only, against the digests under <c>--digests</c>
/// only. One line per problem and the closing count on stdout; exit 0 clean, 1 with problems, 2 for bad usage.
/// </summary>
internal static class VerifyVerb
{
    public const string Usage = """
        Usage: AuditPipeline.Worker verify [--org <orgId>] [--from <iso>] [--to <iso>] [--digests <dir>] [--public-key <pem>] [--Section:Key=value ...]
          Checks the configured store (opened read-only) against the signed digests under --digests
          (default Integrity:DigestPath) with the public key --public-key (default <digests>/public-key.pem).
          Prints one line per problem: missing <eventId>, altered <eventId>, unsealed <eventId>,
          chain <orgId> <seq>, signature <orgId> <seq>; then "verified N events in M digests: K problems".
          Exit 0 when K is 0, 1 otherwise, 2 for bad usage.
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var (parsed, error) = VerifyArguments.Parse(args);
        if (parsed is null)
        {
            if (error is null)
            {
                await stdout.WriteLineAsync(Usage);
                return 0;
            }

            await stderr.WriteLineAsync(error);
            await stderr.WriteLineAsync(Usage);
            return 2;
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = [.. parsed.Configuration],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSerilog((_, lc) => lc.ReadFrom.Configuration(builder.Configuration)
            .WriteTo.Console(standardErrorFromLevel: Serilog.Events.LogEventLevel.Verbose));

        WorkerOptions options;
        try
        {
            options = WorkerOptions.From(builder.Configuration);
        }
        catch (InvalidConfigurationException ex)
        {
            await stderr.WriteLineAsync(ex.Message);
            return 2;
        }

        builder.Services.AddValidatedOptions<RetentionOptions, RetentionOptionsValidator>(builder.Configuration.GetSection(RetentionOptions.SectionName));
        builder.Services.AddSingleton<RetentionPlanRegistry>();
        if (options.Store == StoreProvider.Elasticsearch)
        {
            builder.Services.AddElasticsearchStore(builder.Configuration);
        }
        else
        {
            builder.Services.AddEmbeddedStore(builder.Configuration);

            // Verification changes nothing and runs beside the worker that owns the directory.
            builder.Services.PostConfigure<EmbeddedStoreOptions>(o => o.ReadOnly = true);
        }

        builder.Services.AddOptions<IntegrityOptions>()
            .Bind(builder.Configuration.GetSection(IntegrityOptions.SectionName))
            .PostConfigure(o => o.StorePath = builder.Configuration["Store:Embedded:Path"] is { Length: > 0 } p ? p : "./data");

        using var host = builder.Build();
        var integrity = host.Services.GetRequiredService<IOptions<IntegrityOptions>>().Value;
        var digestPath = Path.GetFullPath(parsed.Digests ?? integrity.ResolvedDigestPath);
        if (parsed.Digests is not null && !Directory.Exists(digestPath))
        {
            await stderr.WriteLineAsync($"--digests '{parsed.Digests}' is not a directory.");
            return 2;
        }

        var directory = new DigestDirectory(digestPath);
        var keyPath = parsed.PublicKey ?? Path.Combine(digestPath, DigestDirectory.PublicKeyFileName);
        string pem;
        if (File.Exists(keyPath))
        {
            pem = await File.ReadAllTextAsync(keyPath);
        }
        else if (parsed.PublicKey is null && !directory.Folders().Any())
        {
            // No digests at all: no signature to check, any key does.
            using var throwaway = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
            pem = throwaway.ExportSubjectPublicKeyInfoPem();
        }
        else
        {
            await stderr.WriteLineAsync($"The public key '{keyPath}' does not exist; pass --public-key <pem>.");
            return 2;
        }

        DigestSignatureCheck key;
        try
        {
            key = new DigestSignatureCheck(pem);
        }
        catch (Exception ex) when (ex is ArgumentException or System.Security.Cryptography.CryptographicException)
        {
            await stderr.WriteLineAsync($"The public key '{keyPath}' is not a PEM EC P-256 public key: {ex.Message}");
            return 2;
        }

        using (key)
        using (var cts = new CancellationTokenSource())
        {
            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = true;
                cts.Cancel();
            };
            var verifier = new IntegrityVerifier(
                host.Services.GetRequiredService<IAuditStore>(),
                host.Services.GetRequiredService<RetentionPlanRegistry>(),
                integrity.SealInterval,
                TimeProvider.System);
            var (events, digests, problems) = await verifier.RunAsync(directory, key, parsed.Org, parsed.From, parsed.To, p => stdout.WriteLine(p.Line), cts.Token);
            await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"verified {events} events in {digests} digests: {problems} problems"));
            await stdout.FlushAsync();
            return problems == 0 ? 0 : 1;
        }
    }
}

/// <summary>The verify verb's own switches; everything else is configuration.</summary>
internal sealed record VerifyArguments(string? Org, DateTimeOffset? From, DateTimeOffset? To, string? Digests, string? PublicKey, IReadOnlyList<string> Configuration)
{
    /// <summary>Null arguments with a null error mean --help.</summary>
    public static (VerifyArguments? Arguments, string? Error) Parse(string[] args)
    {
        string? org = null, from = null, to = null, digests = null, key = null;
        var rest = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (a is "--help" or "-h" or "help")
            {
                return (null, null);
            }

            var name = a.Contains('=', StringComparison.Ordinal) ? a[..a.IndexOf('=', StringComparison.Ordinal)] : a;
            if (name is not ("--org" or "--from" or "--to" or "--digests" or "--public-key"))
            {
                if (!a.StartsWith("--", StringComparison.Ordinal) || !a.Contains(':', StringComparison.Ordinal) && !a.Contains('=', StringComparison.Ordinal))
                {
                    return (null, $"Unexpected argument '{a}'.");
                }

                rest.Add(a);
                continue;
            }

            string value;
            if (name.Length < a.Length)
            {
                value = a[(name.Length + 1)..];
            }
            else if (i + 1 < args.Length)
            {
                value = args[++i];
            }
            else
            {
                return (null, $"{name} needs a value.");
            }

            if (string.IsNullOrWhiteSpace(value))
            {
                return (null, $"{name} needs a value.");
            }

            switch (name)
            {
                case "--org": org = value; break;
                case "--from": from = value; break;
                case "--to": to = value; break;
                case "--digests": digests = value; break;
                default: key = value; break;
            }
        }

        var (f, fe) = Time("--from", from);
        var (t, te) = Time("--to", to);
        if (fe is not null || te is not null)
        {
            return (null, fe ?? te);
        }

        if (f is { } ff && t is { } tt && ff > tt)
        {
            return (null, "--from must not be after --to.");
        }

        return (new VerifyArguments(org, f, t, digests, key, rest), null);
    }

    private static (DateTimeOffset?, string?) Time(string name, string? text)
    {
        if (text is null)
        {
            return (null, null);
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
            ? (t, null)
            : (null, $"{name} '{text}' is not an ISO-8601 date or instant.");
    }
}
