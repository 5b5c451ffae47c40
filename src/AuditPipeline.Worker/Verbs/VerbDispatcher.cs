namespace AuditPipeline.Worker.Verbs;

/// <summary>
/// <c>AuditPipeline.Worker [verb] [verb options] [--Section:Key=value ...]</c>. The first argument picks
/// the verb when it is not a switch (<c>run</c> otherwise); <c>--help</c> anywhere prints the verb's usage
/// and exits 0; an unknown verb or switch exits 2 naming it. Everything that is not a verb option is
/// configuration, read by the host's command-line provider.
/// </summary>
/// <remarks>
/// Hand-parsed on purpose: configuration switches are open-ended (<c>--Kafka:Client:sasl.mechanism=…</c>,
/// any key of any section), which a declarative parser such as System.CommandLine cannot declare, so it
/// would still need this layer to tell a configuration switch from a misspelt one.
/// </remarks>
internal static class VerbDispatcher
{
    public static IReadOnlyList<VerbSpec> Verbs { get; } =
    [
        new("run", "run", "consume, store and serve the API (the default verb)",
            """
            Runs the roles in Roles (ingest, api or both) until SIGTERM or Ctrl+C. Sources: Kafka when
            Kafka:BootstrapServers is set, the inbox when Inbox:Path is set. Store: Elasticsearch when
            Elasticsearch:Url is set, else the embedded SQLite store under Store:Embedded:Path.
            """,
            args => RunVerb.RunAsync(args)),
        new("demo", "demo", "write 90 days of realistic Outsprint activity into the inbox and run",
            """
            Writes generated activity of three organisations into Inbox:Path (default ./inbox) once, then
            runs the worker on the embedded store with a demo API key that can read and export everything.
            Demo:EventsPerOrg (default 6000) sets the amount.
            """,
            DemoVerb.RunAsync),
        new("setup", "setup [--print]", "create or update Elasticsearch templates, ILM policies and roles",
            """
            Idempotent. --print writes every request as JSON on stdout and touches no cluster.
            """,
            SetupVerb.RunAsync,
            Flags: ["--print"]),
        new("normalize", "normalize --kind <kind> [file]", "raw JSONL (stdin when no file) to AuditEvent JSONL on stdout",
            """
            Kinds: crm, auth, ai, platform. One AuditEvent per accepted line on stdout, in input order;
            'line N: reason' on stderr per rejected line; blank lines skipped; exit 1 if any was rejected.
            """,
            args => NormalizeVerb.RunAsync(args, Console.OpenStandardInput(), Console.OpenStandardOutput(), Console.Error),
            ValueOptions: ["--kind"],
            Positionals: 1),
        new("verify", "verify [--org <orgId>] [--from <iso>] [--to <iso>] [--digests <dir>] [--public-key <pem>]",
            "check the store against the signed digests",
            """
            Opens the configured store read-only (it can run beside a running worker) and checks it
            against the digests under --digests (default Integrity:DigestPath) with the public key
            --public-key (default <digests>/public-key.pem); it never trusts the store's own copy.
            Prints one line per problem: missing <eventId>, altered <eventId>, unsealed <eventId>,
            chain <orgId> <seq>, signature <orgId> <seq>; then "verified N events in M digests: K problems".
            Exit 0 when K is 0, 1 otherwise, 2 for bad usage.
            """,
            args => VerifyVerb.RunAsync(args, Console.Out, Console.Error),
            ValueOptions: ["--org", "--from", "--to", "--digests", "--public-key"]),
    ];

    public static string Usage
    {
        get
        {
            var lines = new List<string> { "Usage: AuditPipeline.Worker [verb] [options] [--Section:Key=value ...]", string.Empty, "Verbs:" };
            lines.AddRange(Verbs.Select(v => $"  {v.Synopsis,-34} {v.Summary}"));
            lines.Add(string.Empty);
            lines.Add("Configuration switches (--Kafka:BootstrapServers=host:9092) override appsettings.json and");
            lines.Add("environment variables (Kafka__BootstrapServers). 'AuditPipeline.Worker <verb> --help' for a verb.");
            return string.Join(Environment.NewLine, lines);
        }
    }

    public static async Task<int> RunAsync(string[] args) => await RunAsync(args, Console.Out, Console.Error);

    internal static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length > 0 && args[0] is "help" or "--help" or "-h" or "-?")
        {
            if (args.Length > 1 && Find(args[1]) is { } topic)
            {
                await stdout.WriteLineAsync(topic.Help);
                return 0;
            }

            await stdout.WriteLineAsync(Usage);
            return 0;
        }

        var named = args.Length > 0 && !args[0].StartsWith('-') && !args[0].Contains('=', StringComparison.Ordinal);
        var verb = Find(named ? args[0] : "run");
        if (verb is null)
        {
            await stderr.WriteLineAsync($"Unknown verb '{args[0]}'.{Environment.NewLine}{Usage}");
            return 2;
        }

        var rest = named ? args[1..] : args;
        if (rest.Any(a => a is "--help" or "-h" or "-?"))
        {
            await stdout.WriteLineAsync(verb.Help);
            return 0;
        }

        if (CommandLineSwitches.FindProblem(rest, verb) is { } problem)
        {
            await stderr.WriteLineAsync($"{problem}{Environment.NewLine}{verb.Help}");
            return 2;
        }

        return await verb.Run(rest);
    }

    private static VerbSpec? Find(string name) =>
        Verbs.FirstOrDefault(v => string.Equals(v.Name, name, StringComparison.Ordinal));
}
