using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace AuditPipeline.Api.Querying;

/// <summary>
/// The filters as the client gave them (query string or export body), before validation. Repeatable
/// filters keep every value; an empty value counts as absent.
/// </summary>
internal sealed class FilterInput
{
    public const string Action = "action";
    public const string User = "user";
    public const string EntityType = "entityType";
    public const string EntityId = "entityId";
    public const string Category = "category";
    public const string Source = "source";
    public const string Outcome = "outcome";
    public const string Ai = "ai";
    public const string Range = "range";
    public const string From = "from";
    public const string To = "to";
    public const string Q = "q";
    public const string Limit = "limit";
    public const string Cursor = "cursor";

    /// <summary>A repeatable filter may be given at most this many times (contract section 4).</summary>
    public const int MaxRepeats = 100;

    /// <summary>The repeatable filters, in the order the contract lists them.</summary>
    public static IReadOnlyList<string> Repeatable { get; } = [Action, User, EntityType, EntityId, Category, Source, Outcome, Ai];

    private static readonly string[] Singles = [Range, From, To, Q];

    public Dictionary<string, List<string>> Lists { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> Values { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<string> Get(string name) => Lists.TryGetValue(name, out var l) ? l : [];

    public string? Single(string name) => Values.GetValueOrDefault(name);

    /// <summary>Reads the filters of a query string (parameter names are case-insensitive; unknown ones are ignored).</summary>
    public static FilterInput FromQuery(IQueryCollection query, Dictionary<string, string[]> errors)
    {
        var input = new FilterInput();
        foreach (var name in Repeatable)
        {
            if (query.TryGetValue(name, out var values))
            {
                if (values.Count > MaxRepeats)
                {
                    errors[name] = [TooManyRepeats(name, values.Count)];
                    continue;
                }

                foreach (var v in values)
                {
                    if (!string.IsNullOrEmpty(v))
                    {
                        input.Add(name, v);
                    }
                }
            }
        }

        foreach (var name in Singles)
        {
            if (query.TryGetValue(name, out var values))
            {
                var given = values.Where(v => !string.IsNullOrEmpty(v)).ToList();
                if (name == Q && given.Count > TextLimits.MaxTerms)
                {
                    // Each value holds at least one term: too many values are too many terms, whatever they hold.
                    errors[name] = [TextLimits.TooManyTerms(given.Count)];
                }
                else if (given.Count > 1 && name != Q)
                {
                    errors[name] = [$"{name} may be given only once (was given {given.Count} times)."];
                }
                else if (given.Count > 0)
                {
                    input.Values[name] = string.Join(' ', given);
                }
            }
        }

        return input;
    }

    /// <summary>
    /// Reads the filters of an export request body: a JSON object with the same names, repeatable ones
    /// as arrays (a single string is taken as a one-element array), <c>ai</c> as booleans.
    /// </summary>
    public static FilterInput FromJson(JsonElement body, Dictionary<string, string[]> errors)
    {
        var input = new FilterInput();
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors["body"] = ["The request body must be a JSON object of filters, e.g. {\"action\":[\"deleted\"],\"range\":\"30d\"}."];
            return input;
        }

        foreach (var property in body.EnumerateObject())
        {
            if (PropertyName(property) is not { } given)
            {
                errors["body"] = ["The request body holds a member name that is not valid text (an unpaired surrogate such as \\ud800)."];
                continue;
            }

            var name = Known(given);
            if (name is null)
            {
                continue;
            }

            if (name is Limit or Cursor)
            {
                errors[name] = [$"{name} does not apply to an export, which always covers every match."];
                continue;
            }

            var value = property.Value;
            if (value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            if (Repeatable.Contains(name))
            {
                if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() > MaxRepeats)
                {
                    errors[name] = [TooManyRepeats(name, value.GetArrayLength())];
                    continue;
                }

                var items = value.ValueKind == JsonValueKind.Array ? [.. value.EnumerateArray()] : new List<JsonElement> { value };
                foreach (var item in items)
                {
                    switch (item.ValueKind)
                    {
                        case JsonValueKind.String when Text(item) is { } s:
                            if (s.Length > 0)
                            {
                                input.Add(name, s);
                            }

                            break;
                        case JsonValueKind.True or JsonValueKind.False when name == Ai:
                            input.Add(name, item.GetBoolean() ? "true" : "false");
                            break;
                        default:
                            errors[name] = [name == Ai
                                ? "ai must be true, false or an array of them."
                                : $"{name} must be a string or an array of strings."];
                            break;
                    }
                }
            }
            else if (value.ValueKind == JsonValueKind.String && Text(value) is { } s)
            {
                if (s.Length > 0)
                {
                    input.Values[name] = s;
                }
            }
            else
            {
                errors[name] = [$"{name} must be a string."];
            }
        }

        return input;
    }

    /// <summary>The filters as given, for the audit record of an export.</summary>
    public JsonObject ToJson()
    {
        var o = new JsonObject();
        foreach (var name in Repeatable)
        {
            if (Lists.TryGetValue(name, out var l))
            {
                var array = new JsonArray();
                foreach (var v in l)
                {
                    array.Add(name == Ai && bool.TryParse(v, out var b) ? JsonValue.Create(b) : JsonValue.Create(v));
                }

                o[name] = array;
            }
        }

        foreach (var name in Singles)
        {
            if (Values.TryGetValue(name, out var v))
            {
                o[name] = v;
            }
        }

        return o;
    }

    private static string TooManyRepeats(string name, int count) =>
        $"{name} may be given at most {MaxRepeats} times (was given {count} times); narrow the filter or split the request.";

    /// <summary>The string, or null when it is not valid text (a lone surrogate escape like \ud800).</summary>
    private static string? Text(JsonElement value)
    {
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The member's name, or null when it is not valid text (a lone surrogate escape).</summary>
    private static string? PropertyName(JsonProperty property)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static string? Known(string name)
    {
        foreach (var n in Repeatable)
        {
            if (string.Equals(n, name, StringComparison.OrdinalIgnoreCase))
            {
                return n;
            }
        }

        foreach (var n in (string[])[Range, From, To, Q, Limit, Cursor])
        {
            if (string.Equals(n, name, StringComparison.OrdinalIgnoreCase))
            {
                return n;
            }
        }

        return null;
    }

    private void Add(string name, string value)
    {
        if (!Lists.TryGetValue(name, out var l))
        {
            Lists[name] = l = [];
        }

        l.Add(value);
    }
}
