using System.Text.Json.Nodes;
using AuditPipeline.Core.Events;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace AuditPipeline.Api.Endpoints;

/// <summary>Endpoint metadata: the route reads the filter query parameters (and, for lists, limit and cursor).</summary>
internal sealed record FilterParametersMetadata(bool Paged);

/// <summary>
/// The filters are read from the query collection by hand (repeatable, case-insensitive, validated with
/// messages naming each one), so the document describes them here.
/// </summary>
internal sealed class OpenApiFilterParameters : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata.OfType<FilterParametersMetadata>().FirstOrDefault();
        if (metadata is null)
        {
            return Task.CompletedTask;
        }

        operation.Parameters ??= [];
        Add(operation, "action", "Action, e.g. deleted (open set). Repeatable: OR within.", Strings());
        Add(operation, "user", "Actor id. Repeatable.", Strings());
        Add(operation, "entityType", "Entity type, e.g. deal (open set). Repeatable.", Strings());
        Add(operation, "entityId", "Entity id. Repeatable.", Strings());
        Add(operation, "category", "Category. Repeatable.", Strings(Categories.All));
        Add(operation, "source", "Source display name, any case. Repeatable.", Strings(Sources.All));
        Add(operation, "outcome", "Outcome. Repeatable.", Strings(Outcomes.All));
        Add(operation, "ai", "AI-initiated or not. Repeatable.", Strings(["true", "false"]));
        Add(operation, "range", "The last N days up to now; not with from/to.", String(["7d", "30d", "90d"]));
        Add(operation, "from", "Inclusive lower bound, ISO-8601 with an offset.", String(format: "date-time"));
        Add(operation, "to", "Exclusive upper bound, ISO-8601 with an offset.", String(format: "date-time"));
        Add(operation, "q", "Free text: each term must match the actor's name or email, the entity's name or id, or the event id from a word start.", String());
        if (metadata.Paged)
        {
            Add(operation, "limit", "Page size, 1 to 500 (default 50).", new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "1", Maximum = "500", Default = JsonValue.Create(50) });
            Add(operation, "cursor", "The nextCursor of the previous page, with the same filters.", String());
        }

        return Task.CompletedTask;
    }

    private static void Add(OpenApiOperation operation, string name, string description, OpenApiSchema schema) =>
        operation.Parameters!.Add(new OpenApiParameter
        {
            Name = name,
            In = ParameterLocation.Query,
            Description = description,
            Schema = schema,
            Style = schema.Type == JsonSchemaType.Array ? ParameterStyle.Form : null,
            Explode = schema.Type == JsonSchemaType.Array,
        });

    private static OpenApiSchema Strings(IReadOnlyList<string>? values = null) =>
        new() { Type = JsonSchemaType.Array, Items = String(values) };

    private static OpenApiSchema String(IReadOnlyList<string>? values = null, string? format = null) => new()
    {
        Type = JsonSchemaType.String,
        Format = format,
        Enum = values is null ? null : [.. values.Select(v => (JsonNode)JsonValue.Create(v))],
    };
}
