using System.Diagnostics;
using Xunit;

namespace AuditPipeline.Testing;

/// <summary>
/// The one way a test waits for something that happens on another thread: poll a condition until it
/// holds, and fail with a description of what was awaited (and what was seen) when the bound passes,
/// so a hang fails fast instead of blocking the run. The poll interval is short; the bound is generous.
/// </summary>
public static class Eventually
{
    private static readonly TimeSpan DefaultPoll = TimeSpan.FromMilliseconds(25);

    /// <summary>Waits until <paramref name="condition"/> is true; <paramref name="describe"/> says what was awaited and what is seen.</summary>
    public static Task TrueAsync(Func<bool> condition, TimeSpan timeout, Func<string> describe) =>
        TrueAsync(() => Task.FromResult(condition()), timeout, describe);

    /// <summary>
    /// Waits until <paramref name="condition"/> is true; for conditions that ask a store or an endpoint
    /// (<paramref name="poll"/> spaces out costly ones). An exception from the condition ends the wait at once.
    /// </summary>
    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> describe, TimeSpan? poll = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentNullException.ThrowIfNull(describe);
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
            {
                Assert.Fail($"Timed out after {timeout}: {describe()}");
            }

            await Task.Delay(poll ?? DefaultPoll, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Waits until <paramref name="read"/> returns a value <paramref name="accept"/> takes, and returns it.</summary>
    public static async Task<T> ValueAsync<T>(Func<Task<T>> read, Func<T, bool> accept, TimeSpan timeout, string awaited, TimeSpan? poll = null)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(accept);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await read();
            if (accept(value))
            {
                return value;
            }

            if (clock.Elapsed > timeout)
            {
                Assert.Fail($"Timed out after {timeout} waiting for {awaited}; last seen: {value}");
            }

            await Task.Delay(poll ?? DefaultPoll, TestContext.Current.CancellationToken);
        }
    }
}
