using AuditPipeline.Core.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AuditPipeline.Api.Endpoints;

/// <summary>
/// The outermost filter of every <c>/v1</c> route: an unexpected exception becomes a generic 500
/// problem (logged here, never shown to the client), whatever error-page middleware the host has.
/// </summary>
internal sealed partial class ApiExceptionFilter(ILogger<ApiExceptionFilter> logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (OperationCanceledException) when (context.HttpContext.RequestAborted.IsCancellationRequested)
        {
            // The client is gone; nobody reads an answer.
            return Results.Empty;
        }
        catch (StoreUnavailableException ex)
        {
            LogStoreUnavailable(ex, context.HttpContext.Request.Path);
            context.HttpContext.Response.Headers.RetryAfter = "5";
            return ApiProblems.Unavailable();
        }
        catch (BadHttpRequestException ex)
        {
            return ApiProblems.Invalid("request", ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? "The request body is too large."
                : "The request could not be read.");
        }
        catch (Exception ex)
        {
            LogUnhandled(ex, context.HttpContext.Request.Method, context.HttpContext.Request.Path);
            return ApiProblems.ServerError();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The store was unavailable while answering {Path}")]
    private partial void LogStoreUnavailable(Exception ex, PathString path);

    [LoggerMessage(Level = LogLevel.Error, Message = "An unhandled error occurred while answering {Method} {Path}")]
    private partial void LogUnhandled(Exception ex, string method, PathString path);
}

/// <summary>For hosts that call <c>app.UseExceptionHandler()</c>: the same generic 500 outside the /v1 routes.</summary>
internal sealed class ApiExceptionHandler : Microsoft.AspNetCore.Diagnostics.IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (httpContext.Response.HasStarted)
        {
            return false;
        }

        await ApiProblems.ServerError().ExecuteAsync(httpContext);
        return true;
    }
}
