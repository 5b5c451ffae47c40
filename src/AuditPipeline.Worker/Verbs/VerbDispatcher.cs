namespace AuditPipeline.Worker.Verbs;

/// <summary>
/// <c>AuditPipeline.Worker [run|setup [--print]|verify ...|normalize --kind K [file]|demo] [--Section:Key=value ...]</c>.
/// The first argument picks the verb when it is not a switch; everything else is configuration.
/// </summary>
internal static class VerbDispatcher
{
    public const string Usage = """
        Usage: AuditPipeline.Worker [verb] [--Section:Key=value ...]
          run                              consume, store and serve the API (default)
          setup [--print]                  create or update Elasticsearch templates, ILM policies and roles
                                           (--print writes them as JSON without touching a cluster)
          normalize --kind <kind> [file]   raw JSONL (stdin when no file) to AuditEvent JSONL on stdout;
                                           kinds: crm, auth, ai, platform; exit 1 if any line was rejected
          verify [--org <orgId>] [--from <iso>] [--to <iso>] [--digests <dir>] [--public-key <pem>]
                                           check the store against the signed digests (verify --help)
          demo                             write 90 days of realistic Outsprint activity into the inbox and run
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var verb = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : "run";
        var rest = args.Length > 0 && !args[0].StartsWith('-') ? args[1..] : args;
        return verb switch
        {
            "run" => await RunVerb.RunAsync(rest),
            "demo" => await DemoVerb.RunAsync(rest),
            "setup" => await SetupVerb.RunAsync(rest),
            "verify" => await VerifyVerb.RunAsync(rest, Console.Out, Console.Error),
            "normalize" => await NormalizeVerb.RunAsync(rest, Console.OpenStandardInput(), Console.OpenStandardOutput(), Console.Error),
            "help" or "--help" or "-h" => Help(Console.Out, 0),
            _ => Help(Console.Error, 2, $"Unknown verb '{verb}'."),
        };
    }

    private static int Help(TextWriter w, int code, string? error = null)
    {
        if (error is not null)
        {
            w.WriteLine(error);
        }

        w.WriteLine(Usage);
        return code;
    }
}
