namespace AuditPipeline.Worker.Verbs;

/// <summary>One verb of the command line: its usage line, help text, the switches it takes itself, and how it runs.</summary>
/// <param name="Flags">Switches without a value (<c>--print</c>).</param>
/// <param name="ValueOptions">Switches with a value, as <c>--kind crm</c> or <c>--kind=crm</c>.</param>
/// <param name="Positionals">How many plain arguments (a file name) it accepts.</param>
internal sealed record VerbSpec(
    string Name,
    string Synopsis,
    string Summary,
    string Details,
    Func<string[], Task<int>> Run,
    IReadOnlyList<string>? Flags = null,
    IReadOnlyList<string>? ValueOptions = null,
    int Positionals = 0)
{
    public IReadOnlyList<string> Flags { get; } = Flags ?? [];

    public IReadOnlyList<string> ValueOptions { get; } = ValueOptions ?? [];

    public string Help => $"Usage: AuditPipeline.Worker {Synopsis} [--Section:Key=value ...]{Environment.NewLine}{Summary}.{Environment.NewLine}{Environment.NewLine}{Details.TrimEnd()}";
}
