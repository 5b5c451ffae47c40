namespace AuditPipeline.Core.Ingest;

/// <summary>Exponential backoff with full jitter, capped.</summary>
public static class Backoff
{
    public static TimeSpan Delay(int attempt, TimeSpan min, TimeSpan max)
    {
        var exp = min.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 20));
        var cap = Math.Min(exp, max.TotalMilliseconds);
        var jittered = min.TotalMilliseconds + (Random.Shared.NextDouble() * (cap - min.TotalMilliseconds));
        return TimeSpan.FromMilliseconds(Math.Max(min.TotalMilliseconds, jittered));
    }
}
