namespace AuditPipeline.Worker.Verbs;

/// <summary>
/// Tells a verb's own switches and configuration switches from mistakes. A configuration switch is
/// any form the host's command-line provider reads (<c>--Key=value</c>, <c>--Key value</c>,
/// <c>/Key=value</c>, <c>Key=value</c>) whose first key segment is a section the worker reads, so a typo
/// such as <c>--Kafak:BootstrapServers=…</c> or <c>--prnt</c> is refused instead of silently ignored.
/// </summary>
internal static class CommandLineSwitches
{
    /// <summary>The configuration sections the worker, its libraries and the host read.</summary>
    public static IReadOnlySet<string> Sections { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "Roles", "Store", "Kafka", "Elasticsearch", "Kibana", "Inbox", "Api", "Retention", "Exports", "Ingest",
        "Integrity", "MaxMessageBytes", "Worker", "Demo",

        // Read by the host and its libraries: logging, Kestrel, the generic host's own switches.
        "Serilog", "Logging", "Kestrel", "Urls", "AllowedHosts", "Environment", "ContentRoot", "ApplicationName",
    };

    /// <summary>A sentence naming the first argument that is neither the verb's nor configuration, or null.</summary>
    public static string? FindProblem(IReadOnlyList<string> args, VerbSpec verb)
    {
        var positionals = 0;
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            var (name, hasValue) = Split(a);
            if (name is null)
            {
                if (++positionals > verb.Positionals)
                {
                    return verb.Positionals == 0
                        ? $"Unexpected argument '{a}': {verb.Name} takes no file or value (configuration is --Section:Key=value)."
                        : $"Unexpected argument '{a}': {verb.Name} takes at most {verb.Positionals} file.";
                }

                continue;
            }

            if (verb.Flags.Contains(name, StringComparer.Ordinal))
            {
                if (hasValue)
                {
                    return $"Switch '{name}' takes no value (was '{a}').";
                }

                continue;
            }

            if (verb.ValueOptions.Contains(name, StringComparer.Ordinal))
            {
                if (!hasValue && (i + 1 >= args.Count || args[++i].StartsWith("--", StringComparison.Ordinal)))
                {
                    return $"Switch '{name}' needs a value.";
                }

                continue;
            }

            var key = name.TrimStart('-', '/');
            var section = key.Split(':', 2)[0];
            if (key.Length == 0 || !Sections.Contains(section))
            {
                return $"Unknown switch '{name}' for {verb.Name}.";
            }

            if (!hasValue)
            {
                // The provider takes the next argument as the value: it must exist.
                if (i + 1 >= args.Count)
                {
                    return $"Configuration switch '{name}' needs a value ('{name}=value').";
                }

                i++;
            }
        }

        return null;
    }

    /// <summary>The switch's name and whether it carries its value (<c>=</c>), or a null name for a plain argument.</summary>
    private static (string? Name, bool HasValue) Split(string a)
    {
        var isSwitch = a.StartsWith('-') || (a.StartsWith('/') && a.Contains('=', StringComparison.Ordinal));
        var eq = a.IndexOf('=', StringComparison.Ordinal);
        if (!isSwitch)
        {
            // Key=value without dashes is configuration too; anything else is a positional argument.
            return eq > 0 ? ("--" + a[..eq], true) : (null, false);
        }

        return eq > 0 ? (a[..eq], true) : (a, false);
    }
}
