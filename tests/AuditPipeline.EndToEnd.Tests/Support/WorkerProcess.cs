using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using AuditPipeline.Testing;

namespace AuditPipeline.EndToEnd.Tests.Support;

/// <summary>The real executable (AuditPipeline.Worker.dll next to the tests) as a child process.</summary>
public sealed class WorkerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource _stdoutDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrDone = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WorkerProcess(Process process)
    {
        _process = process;
    }

    public static string WorkerDll => Path.Combine(AppContext.BaseDirectory, "AuditPipeline.Worker.dll");

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Stdout
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Every line written so far to stdout and stderr (logs), for diagnosing a failed test.</summary>
    public string Log => string.Join('\n', _output);

    public static WorkerProcess Start(IEnumerable<string> args, string workingDirectory, IDictionary<string, string>? env = null, bool redirectStdin = false)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectStdin,
            UseShellExecute = false,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
        };
        psi.ArgumentList.Add(WorkerDll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["DOTNET_ENVIRONMENT"] = "Production";
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var w = new WorkerProcess(process);
        process.OutputDataReceived += (_, e) => w.OnLine(e.Data, w._stdout, w._stdoutDone);
        process.ErrorDataReceived += (_, e) => w.OnLine(e.Data, w._stderr, w._stderrDone);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return w;
    }

    public StreamWriter StandardInput => _process.StandardInput;

    /// <summary>Waits for exit and for both streams to be read to their end.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            await Task.WhenAll(_stdoutDone.Task, _stderrDone.Task).WaitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException($"The worker did not exit within {timeout}.\n{Log}");
        }

        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no chance to drain or commit.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
    }

    /// <summary>SIGTERM: the orchestrator's polite stop; the worker drains and commits.</summary>
    public void Terminate()
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
        }
    }

    /// <summary>Waits until a line containing <paramref name="text"/> appears on stdout or stderr.</summary>
    public Task WaitForLogAsync(string text, TimeSpan timeout) => Eventually.TrueAsync(
        () =>
        {
            if (_output.Any(l => l.Contains(text, StringComparison.Ordinal)))
            {
                return true;
            }

            return _process.HasExited
                ? throw new InvalidOperationException($"The worker exited ({_process.ExitCode}) before logging '{text}'.\n{Log}")
                : false;
        },
        timeout,
        () => $"The worker did not log '{text}'.\n{Log}");

    public async ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
        }

        _process.Dispose();
    }

    private void OnLine(string? line, StringBuilder sink, TaskCompletionSource done)
    {
        if (line is null)
        {
            done.TrySetResult();
            return;
        }

        _output.Enqueue(line);
        lock (sink)
        {
            sink.Append(line).Append('\n');
        }
    }
}
