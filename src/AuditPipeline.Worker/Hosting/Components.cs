namespace AuditPipeline.Worker.Hosting;

/// <summary>Store, sources and API, by role and provider.</summary>
internal static class Components
{
    public static IServiceCollection AddComponents(this IServiceCollection services, IConfiguration configuration, WorkerOptions options) =>
        throw new InvalidOperationException("Components are wired as they land.");

    public static WebApplication MapComponents(this WebApplication app, WorkerOptions options) => app;
}
