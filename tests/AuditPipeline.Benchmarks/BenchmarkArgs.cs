using System.Globalization;

namespace AuditPipeline.Benchmarks;

/// <summary>The switches every measurement verb reads (<c>--name value</c>), and the machine's load to print beside its numbers.</summary>
internal static class BenchmarkArgs
{
    public static int Option(string[] args, string name, int fallback) =>
        OptionText(args, name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public static double OptionDouble(string[] args, string name, double fallback) =>
        OptionText(args, name) is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public static string? OptionText(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>The one-minute load average (Linux), so a number taken on a busy machine says so.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";
}
