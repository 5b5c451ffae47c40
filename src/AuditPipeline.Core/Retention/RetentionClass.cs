namespace AuditPipeline.Core.Retention;

/// <summary>
/// Where an event is kept and for how long: <c>p2y</c> (professional, 2 years) or <c>e1y</c>..<c>e7y</c>
/// (enterprise, N years, archived after <c>ArchiveAfterDays</c>). A year counts as 366 days wherever a
/// deletion age is computed, so nothing is ever deleted early.
/// </summary>
public sealed record RetentionClass
{
    public const int DaysPerYear = 366;

    private RetentionClass(string name, int years, bool archives)
    {
        Name = name;
        Years = years;
        Archives = archives;
    }

    public static RetentionClass Professional { get; } = new("p2y", 2, archives: false);

    /// <summary>Every class, professional first then e1y..e7y.</summary>
    public static IReadOnlyList<RetentionClass> All { get; } =
        [Professional, .. Enumerable.Range(1, 7).Select(n => new RetentionClass($"e{n}y", n, archives: true))];

    public string Name { get; }

    public int Years { get; }

    /// <summary>Enterprise classes move data older than ArchiveAfterDays to the archive tier.</summary>
    public bool Archives { get; }

    /// <summary>The minimum age of an event before it may be deleted.</summary>
    public TimeSpan RetentionPeriod => TimeSpan.FromDays(Years * DaysPerYear);

    public static RetentionClass Enterprise(int years) =>
        years is >= 1 and <= 7
            ? All[years]
            : throw new ArgumentOutOfRangeException(nameof(years), years, "Enterprise retention is 1 to 7 years.");

    public static RetentionClass? FromName(string name) => All.FirstOrDefault(c => c.Name == name);

    public static RetentionClass For(string plan, int? years) => plan switch
    {
        RetentionPlans.Professional => Professional,
        RetentionPlans.Enterprise => Enterprise(years ?? 7),
        _ => throw new ArgumentException($"Unknown plan '{plan}': expected professional or enterprise.", nameof(plan)),
    };

    /// <summary>
    /// True when every event of the month starting at <paramref name="monthStart"/> is past retention
    /// at <paramref name="now"/>: the month's last instant plus the retention period has passed.
    /// </summary>
    public bool IsMonthExpired(DateTimeOffset monthStart, DateTimeOffset now) =>
        monthStart.AddMonths(1) + RetentionPeriod <= now;

    public override string ToString() => Name;
}
