namespace AuditPipeline.Core.Events;

public static class Categories
{
    public const string Crm = "crm";
    public const string Auth = "auth";
    public const string Security = "security";
    public const string Ai = "ai";
    public const string Settings = "settings";
    public const string Data = "data";

    /// <summary>Every category an event can carry; the query facade's closed set.</summary>
    public static IReadOnlyList<string> All { get; } = [Crm, Auth, Security, Ai, Settings, Data];
}
