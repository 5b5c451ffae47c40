using AuditPipeline.EndToEnd.Tests.Support;

namespace AuditPipeline.EndToEnd.Tests;

/// <summary>The command line as a newcomer meets it: help that exits 0, mistakes that exit 2 naming the mistake.</summary>
public sealed class VerbHelpTests : IDisposable
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(60);
    private readonly WorkerSandbox _sandbox = new("help");

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("help")]
    public async Task Help_lists_every_verb_and_exits_0_without_starting_the_worker(string flag)
    {
        await using var worker = WorkerProcess.Start([flag], _sandbox.Root);
        Assert.Equal(0, await worker.WaitForExitAsync(ExitTimeout));
        foreach (var verb in new[] { "run", "demo", "setup [--print]", "normalize --kind <kind> [file]" })
        {
            Assert.Contains(verb, worker.Stdout, StringComparison.Ordinal);
        }

        Assert.False(Directory.Exists(Path.Combine(_sandbox.Root, "data")), "help must not open a store");
    }

    [Theory]
    [InlineData("run", "Runs the roles in Roles")]
    [InlineData("demo", "Demo:EventsPerOrg")]
    [InlineData("setup", "--print writes every request")]
    [InlineData("normalize", "Kinds: crm, auth, ai, platform")]
    public async Task Each_verb_prints_its_own_help_with_help_and_exits_0(string verb, string expected)
    {
        await using var worker = WorkerProcess.Start([verb, "--help"], _sandbox.Root);
        Assert.Equal(0, await worker.WaitForExitAsync(ExitTimeout));
        Assert.Contains($"Usage: AuditPipeline.Worker {verb}", worker.Stdout, StringComparison.Ordinal);
        Assert.Contains(expected, worker.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_names_a_verb_when_asked_as_help_verb()
    {
        await using var worker = WorkerProcess.Start(["help", "normalize"], _sandbox.Root);
        Assert.Equal(0, await worker.WaitForExitAsync(ExitTimeout));
        Assert.Contains("Usage: AuditPipeline.Worker normalize --kind <kind> [file]", worker.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "frobnicate" }, "Unknown verb 'frobnicate'.")]
    [InlineData(new[] { "setup", "--prnt" }, "Unknown switch '--prnt' for setup.")]
    [InlineData(new[] { "--Kafak:BootstrapServers=127.0.0.1:9092" }, "Unknown switch '--Kafak:BootstrapServers' for run.")]
    [InlineData(new[] { "run", "extra" }, "Unexpected argument 'extra'")]
    [InlineData(new[] { "normalize", "--kind" }, "Switch '--kind' needs a value.")]
    [InlineData(new[] { "setup", "--print=yes" }, "Switch '--print' takes no value")]
    public async Task A_mistake_on_the_command_line_exits_2_naming_it(string[] args, string expected)
    {
        await using var worker = WorkerProcess.Start(args, _sandbox.Root);
        Assert.Equal(2, await worker.WaitForExitAsync(ExitTimeout));
        Assert.Contains(expected, worker.Stderr, StringComparison.Ordinal);
        Assert.Contains("Usage: AuditPipeline.Worker", worker.Stderr, StringComparison.Ordinal);
    }

    public void Dispose() => _sandbox.Dispose();
}
