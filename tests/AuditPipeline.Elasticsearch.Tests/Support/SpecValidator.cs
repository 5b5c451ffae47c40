using System.Text.Json.Nodes;

namespace AuditPipeline.Elasticsearch.Tests.Support;

/// <summary>
/// Checks a JSON body against the request types of Elasticsearch's own API specification
/// (elastic/elasticsearch-specification, output/typescript/types.ts), extracted into
/// a small type model (see <see cref="SpecModel"/> for where it comes from): object (declared properties,
/// required ones, <c>extends</c>, an optional type for any other key), union, intersection
/// (<c>all</c>), array, record, literal, primitive, any, and references between them.
/// <para>
/// Strict where it helps: an enum declared as known values "or any string" (privileges, for one)
/// accepts only the known values; a dotted key (<c>index.number_of_shards</c>) is read as nested
/// objects where its first part is a declared property, as Elasticsearch reads settings.
/// </para>
/// </summary>
public sealed class SpecValidator
{
    private readonly JsonObject _types;
    private readonly JsonObject _bodies;

    public SpecValidator(string path)
    {
        var model = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        _types = model["types"]!.AsObject();
        _bodies = model["bodies"]!.AsObject();
        Source = (string)model["source"]!;
    }

    private static readonly Lazy<(SpecValidator? Spec, string Missing)> Loaded = new(() =>
        SpecModel.Find() is { } path ? (new SpecValidator(path), string.Empty) : (null, SpecModel.MissingReason));

    /// <summary>The model, or the test is skipped saying how to get it (the specification is not part of this repository).</summary>
    public static SpecValidator Require()
    {
        var (spec, missing) = Loaded.Value;
        if (spec is null)
        {
            Assert.Skip(missing);
        }

        return spec;
    }

    public string Source { get; }

    /// <summary>The errors of a body of one request kind (<c>search</c>, <c>security_put_role</c>, ...); empty when it fits.</summary>
    public IReadOnlyList<string> Errors(string requestKind, JsonNode? body)
    {
        var errors = new List<string>();
        Check(_bodies[requestKind] ?? throw new ArgumentException($"no request kind {requestKind}"), body, "$", errors, 0);
        return errors;
    }

    private void Check(JsonNode type, JsonNode? value, string at, List<string> errors, int depth)
    {
        if (depth > 64)
        {
            errors.Add($"{at}: nested too deep to check");
            return;
        }

        var t = type.AsObject();
        if (t.ContainsKey("any"))
        {
            return;
        }

        if (t["ref"] is { } reference)
        {
            var name = (string)reference!;
            if (_types[name] is not { } resolved)
            {
                // A primitive alias the extraction did not keep (e.g. an opaque user type): accept.
                return;
            }

            Check(resolved, value, at, errors, depth + 1);
            return;
        }

        if (t["prim"] is { } prim)
        {
            var ok = (string)prim! switch
            {
                "string" => value is JsonValue v && v.TryGetValue<string>(out _),
                "number" => value is JsonValue n && (n.TryGetValue<double>(out _) || n.TryGetValue<long>(out _)),
                "boolean" => value is JsonValue b && b.TryGetValue<bool>(out _),
                "null" => value is null,
                _ => false,
            };
            if (!ok)
            {
                errors.Add($"{at}: expected {(string)prim!}, got {Describe(value)}");
            }

            return;
        }

        if (t["literal"] is { } literal)
        {
            if (!LiteralEquals(literal, value))
            {
                errors.Add($"{at}: expected {literal.ToJsonString()}, got {Describe(value)}");
            }

            return;
        }

        if (t["array"] is { } element)
        {
            if (value is not JsonArray array)
            {
                errors.Add($"{at}: expected an array, got {Describe(value)}");
                return;
            }

            for (var i = 0; i < array.Count; i++)
            {
                Check(element, array[i], $"{at}[{i}]", errors, depth + 1);
            }

            return;
        }

        if (t["record"] is { } valueType)
        {
            if (value is not JsonObject record)
            {
                errors.Add($"{at}: expected an object, got {Describe(value)}");
                return;
            }

            foreach (var (key, item) in record)
            {
                Check(valueType, item, $"{at}.{key}", errors, depth + 1);
            }

            return;
        }

        if (t["union"] is JsonArray members)
        {
            CheckUnion(members, value, at, errors, depth);
            return;
        }

        // An object shape: declared properties (own, inherited, of every part of an intersection).
        var shape = Shape(t);
        if (value is not JsonObject obj)
        {
            errors.Add($"{at}: expected an object, got {Describe(value)}");
            return;
        }

        obj = Expand(obj, shape);
        foreach (var (name, required) in shape.Required)
        {
            if (required && !obj.ContainsKey(name))
            {
                errors.Add($"{at}: required property '{name}' is missing");
            }
        }

        foreach (var (key, item) in obj)
        {
            if (shape.Properties.TryGetValue(key, out var propertyType))
            {
                Check(propertyType, item, $"{at}.{key}", errors, depth + 1);
            }
            else if (shape.Extra is { } extra)
            {
                Check(extra, item, $"{at}.{key}", errors, depth + 1);
            }
            else
            {
                errors.Add($"{at}: '{key}' is not a property of this type (allowed: {string.Join(", ", shape.Properties.Keys.Order(StringComparer.Ordinal))})");
            }
        }
    }

    private void CheckUnion(JsonArray members, JsonNode? value, string at, List<string> errors, int depth)
    {
        // Known values "or any string": only the known values.
        var literals = members.Where(m => m!["literal"] is JsonValue l && l.TryGetValue<string>(out _)).Select(m => (string)m!["literal"]!).ToList();
        var openString = members.Any(m => (string?)m!["prim"] == "string");
        if (literals.Count >= 3 && openString && members.All(m => m!["literal"] is not null || m["prim"] is not null))
        {
            if (value is not JsonValue v || !v.TryGetValue<string>(out var s) || !literals.Contains(s))
            {
                errors.Add($"{at}: {Describe(value)} is not one of the values Elasticsearch knows ({string.Join(", ", literals)})");
            }

            return;
        }

        List<string>? closest = null;
        foreach (var member in members)
        {
            var attempt = new List<string>();
            Check(member!, value, at, attempt, depth + 1);
            if (attempt.Count == 0)
            {
                return;
            }

            // Report the member that got furthest: fewest errors, deepest first error.
            if (closest is null || attempt.Count < closest.Count || (attempt.Count == closest.Count && attempt[0].Length > closest[0].Length))
            {
                closest = attempt;
            }
        }

        errors.AddRange(closest ?? [$"{at}: matches no member of the union"]);
    }

    private sealed class ObjectShape
    {
        public Dictionary<string, JsonNode> Properties { get; } = [];

        public Dictionary<string, bool> Required { get; } = [];

        public JsonNode? Extra { get; set; }
    }

    private ObjectShape Shape(JsonObject t)
    {
        var shape = new ObjectShape();
        Collect(t, shape, 0);
        return shape;
    }

    private void Collect(JsonObject t, ObjectShape into, int depth)
    {
        if (depth > 32)
        {
            return;
        }

        if (t["ref"] is { } r && _types[(string)r!] is JsonObject referenced)
        {
            Collect(referenced, into, depth + 1);
            return;
        }

        if (t["all"] is JsonArray parts)
        {
            foreach (var part in parts)
            {
                Collect(part!.AsObject(), into, depth + 1);
            }

            return;
        }

        foreach (var parent in t["extends"]?.AsArray() ?? [])
        {
            if (_types[(string)parent!] is JsonObject p)
            {
                Collect(p, into, depth + 1);
            }
        }

        foreach (var (name, property) in t["object"]?.AsObject() ?? [])
        {
            into.Properties[name] = property!["type"]!;
            into.Required[name] = (bool)property["required"]!;
        }

        if (t["extra"] is { } extra)
        {
            into.Extra = extra;
        }
    }

    /// <summary>Dotted keys whose first part is a declared property, as nested objects.</summary>
    private static JsonObject Expand(JsonObject obj, ObjectShape shape)
    {
        if (!obj.Any(p => p.Key.Contains('.', StringComparison.Ordinal) && shape.Properties.ContainsKey(p.Key[..p.Key.IndexOf('.', StringComparison.Ordinal)])))
        {
            return obj;
        }

        var expanded = new JsonObject();
        foreach (var (key, item) in obj)
        {
            var dot = key.IndexOf('.', StringComparison.Ordinal);
            if (dot > 0 && shape.Properties.ContainsKey(key[..dot]))
            {
                var head = key[..dot];
                if (expanded[head] is not JsonObject nested)
                {
                    nested = new JsonObject();
                    expanded[head] = nested;
                }

                nested[key[(dot + 1)..]] = item?.DeepClone();
            }
            else
            {
                expanded[key] = item?.DeepClone();
            }
        }

        return expanded;
    }

    private static bool LiteralEquals(JsonNode literal, JsonNode? value)
    {
        if (value is not JsonValue v)
        {
            return false;
        }

        var l = literal.AsValue();
        if (l.TryGetValue<string>(out var ls))
        {
            return v.TryGetValue<string>(out var vs) && vs == ls;
        }

        if (l.TryGetValue<bool>(out var lb))
        {
            return v.TryGetValue<bool>(out var vb) && vb == lb;
        }

        return l.TryGetValue<double>(out var ld) && v.TryGetValue<double>(out var vd) && ld.Equals(vd);
    }

    private static string Describe(JsonNode? value) => value is null ? "null" : value.ToJsonString() is { Length: > 80 } s ? s[..80] + "…" : value.ToJsonString();
}
