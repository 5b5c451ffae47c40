using AuditPipeline.Api.Auth;
using AuditPipeline.Api.Endpoints;
using AuditPipeline.Api.Exports;
using AuditPipeline.Api.Notifications;
using AuditPipeline.Api.Querying;
using AuditPipeline.Api.Viewer;
using AuditPipeline.Core.Configuration;
using AuditPipeline.Core.Notifications;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Api;

/// <summary>
/// The query facade: <c>/v1/orgs/{orgId}/events</c> (list, detail, CSV), <c>/v1/orgs/{orgId}/exports</c>
/// (background jobs) and the OpenAPI document at <c>/openapi/v1.json</c>. Needs an <c>IAuditStore</c>
/// registered by the host, and uses the <c>IIngestQueue</c> when there is one to audit exports.
/// Configuration: the <c>Api</c> section (<see cref="ApiOptions"/>) and the <c>Exports</c> section
/// (<see cref="ExportOptions"/>); both are validated at start-up with messages naming the key.
/// <code>
/// "Api": {
///   "Keys": [ { "Name": "app", "Sha256": "&lt;sha-256 hex of the raw key&gt;", "Org": "*", "Scopes": [ "audit:read", "audit:export" ] },
///             { "Name": "acme-siem", "Sha256": "...", "Org": "org_42", "Scopes": [ "audit:read" ] } ],
///   "CursorKey": "&lt;optional base64, ≥ 32 bytes&gt;",
///   "RateLimit": { "PermitsPerMinute": 1000 },
///   "QueryTimeout": "00:00:10", "CsvTimeout": "01:00:00"
/// },
/// "Exports": {
///   "Path": "./data/exports", "MaxConcurrent": 2, "RetentionDays": 7, "MaxAttempts": 3, "CleanupInterval": "01:00:00",
///   "MaxRequestBodyBytes": 65536, "NotificationRetries": 6, "NotificationRetryDelay": "00:00:02",
///   "MaxActivePerKey": 3, "MaxActive": 20, "MinFreeBytes": 1073741824,
///   "WebhookUrl": "https://app.example/hooks/audit-export", "WebhookSecret": "&lt;shared secret&gt;"
/// }
/// </code>
/// </summary>
public static class AuditApiServiceCollectionExtensions
{
    public static IServiceCollection AddAuditApi(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<ApiOptions, ApiOptionsValidator>(configuration.GetSection(ApiOptions.SectionName));
        services.AddValidatedOptions<ExportOptions, ExportOptionsValidator>(configuration.GetSection(ExportOptions.SectionName));

        services.TryAddSingleton(TimeProvider.System);
        services.AddValidatedOptions<ViewerTokenOptions, ViewerTokenOptionsValidator>(configuration.GetSection(ApiOptions.SectionName));
        services.AddSingleton(sp => new ViewerTokenProtector(
            CursorKeyProvider.Load(sp.GetRequiredService<IOptions<ApiOptions>>(), sp.GetRequiredService<IOptions<ExportOptions>>()),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<ViewerTokenOptions>>()));
        services.AddSingleton<ApiKeyRegistry>();
        services.AddSingleton<ApiRateLimiter>();
        services.AddSingleton(sp => new CursorProtector(CursorKeyProvider.Load(
            sp.GetRequiredService<IOptions<ApiOptions>>(), sp.GetRequiredService<IOptions<ExportOptions>>())));

        services.AddMetrics();
        services.TryAddSingleton<ApiMetrics>();
        services.TryAddSingleton<IDiskSpace, DriveDiskSpace>();
        services.AddSingleton<QueryBudget>();
        services.AddSingleton<ExportAdmission>();
        services.AddSingleton<ExportJobStore>();
        services.AddSingleton<ExportAuditor>();
        services.AddSingleton<ExportNotifier>();
        services.AddSingleton<ExportJobRunner>();
        services.AddHostedService(sp => sp.GetRequiredService<ExportJobRunner>());

        // A redirect is not followed: the signed body goes to the configured URL or nowhere. A 3xx is a
        // failed delivery, retried like any other.
        services.AddHttpClient(WebhookNotificationChannel.ClientName, c => c.Timeout = TimeSpan.FromSeconds(30))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        if (!string.IsNullOrEmpty(configuration[$"{ExportOptions.SectionName}:{nameof(ExportOptions.WebhookUrl)}"]))
        {
            services.TryAddEnumerable(ServiceDescriptor.Singleton<INotificationChannel, WebhookNotificationChannel>());
        }

        services.AddHealthChecks().AddCheck<ExportsDirectoryHealthCheck>("exports-directory", tags: ["ready"]);
        services.AddProblemDetails();
        services.AddExceptionHandler<ApiExceptionHandler>();
        services.AddOpenApi(o => o.AddDocumentTransformer<OpenApiSecurity>().AddOperationTransformer<OpenApiFilterParameters>());
        return services;
    }

    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapOpenApi("/openapi/{documentName}.json");

        var org = endpoints.MapGroup("/v1/orgs/{orgId}").AddEndpointFilter<ApiExceptionFilter>();

        // Events are immutable: the write methods answer 405 (before any key check; there is nothing to learn).
        string[] writes = [HttpMethods.Put, HttpMethods.Patch, HttpMethods.Delete, HttpMethods.Post];
        org.MapMethods("/events", writes, EventEndpoints.MethodNotAllowed).WithName("RejectEventsWrite").ExcludeFromDescription();
        org.MapMethods("/events/{eventId}", writes, EventEndpoints.MethodNotAllowed).WithName("RejectEventWrite").ExcludeFromDescription();
        org.MapMethods("/events.csv", writes, EventEndpoints.MethodNotAllowed).WithName("RejectEventsCsvWrite").ExcludeFromDescription();

        var api = org.MapGroup("")
            .AddEndpointFilter<ApiKeyFilter>()
            .WithTags("Audit log")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        api.MapGet("/events", EventEndpoints.ListEvents)
            .WithName("ListEvents")
            .WithSummary("Lists an organisation's audit events, newest first, filtered and paged by cursor.")
            .Produces<EventPage>()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithMetadata(new FilterParametersMetadata(Paged: true))
            .WithMetadata(new RequiredScope(ApiScopes.Read));

        api.MapGet("/events/{eventId}", EventEndpoints.GetEvent)
            .WithName("GetEvent")
            .WithSummary("One audit event in full detail.")
            .Produces<Core.Events.AuditEvent>()
            .WithMetadata(new RequiredScope(ApiScopes.Read));

        api.MapGet("/events.csv", EventEndpoints.ExportCsv)
            .WithName("ExportEventsCsv")
            .WithSummary("Streams every matching event as CSV (UTF-8 with BOM, CRLF); the export is itself audited.")
            .Produces(StatusCodes.Status200OK, contentType: Csv.EventCsvFormat.ContentType)
            .WithMetadata(new FilterParametersMetadata(Paged: false))
            .WithMetadata(new RequiredScope(ApiScopes.Export));

        api.MapPost("/exports", ExportEndpoints.CreateExport)
            .WithName("CreateExport")
            .WithSummary("Starts a background CSV export of the matching events; the body holds the filters.")
            .Produces<ExportAccepted>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .WithMetadata(new RequiredScope(ApiScopes.Export));

        api.MapGet("/exports/{exportId}", ExportEndpoints.GetExport)
            .WithName("GetExport")
            .WithSummary("The status of an export job.")
            .Produces<ExportStatus>()
            .WithMetadata(new RequiredScope(ApiScopes.Export));

        api.MapGet("/exports/{exportId}/download", ExportEndpoints.Download)
            .WithName("DownloadExport")
            .WithSummary("The CSV of a completed export (gzip when accepted); 409 until it is completed.")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .Produces(StatusCodes.Status200OK, contentType: Csv.EventCsvFormat.ContentType)
            .WithMetadata(new RequiredScope(ApiScopes.Export));

        IntegrityEndpoints.Map(api, endpoints);
        api.MapViewerTokens();
        endpoints.MapAuditViewer();
        return endpoints;
    }
}
