using AuditPipeline.Core.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace AuditPipeline.Embedded.Inbox;

/// <summary>
/// The inbox source: <c>*.jsonl</c> files in <c>Inbox:Path</c> tailed like a topic (see <see cref="InboxOptions"/>).
/// Needs an <c>IIngestQueue</c>; register the ingest pipeline's hosted service before this one so that
/// on shutdown the inbox stops (and flushes) while the pipeline still runs.
/// </summary>
public static class InboxServiceCollectionExtensions
{
    public static IServiceCollection AddInboxSource(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(InboxOptions.SectionName);
        if (string.IsNullOrWhiteSpace(section[nameof(InboxOptions.Path)]))
        {
            return services;
        }

        services.AddValidatedOptions<InboxOptions, InboxOptionsValidator>(section);
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<InboxMetrics>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, InboxSource>());
        return services;
    }
}
