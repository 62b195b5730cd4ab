using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using Xunit.Abstractions;

namespace Platform.Tests.Integration.Security;

/// <summary>An Api whose limits do not get in the sweep's way, on a database whose every table logs its row changes.</summary>
public sealed class BadInputSweepFixture : ApiFixture
{
    protected override void Configure(Dictionary<string, string?> settings)
    {
        settings["services:realtime:http:0"] = "http://127.0.0.1:7191";
        settings["Platform:RateLimits:ActivitiesPerWindow"] = "1000000";
        settings["Platform:RateLimits:RequestsPerWindow"] = "1000000";
        settings["Platform:RateLimits:AnonymousPerIpPerMinute"] = "1000000";
        settings["Platform:RateLimits:UserRequestsPerWindow"] = "1000000";
        settings["Platform:Impact:MasterKey"] = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData("sweep-master-key"u8));
    }
}

/// <summary>
/// Walks every operation of <c>/openapi/v1.json</c> with bad input (malformed JSON, wrong types, missing and extra
/// fields, oversized strings, arrays and bodies, extreme numbers, odd Unicode, odd path and query values, another
/// tenant's ids) as every credential kind and none. Never a 5xx; every 4xx is a problem details answer (Direct Line's
/// own error shape on its endpoints) and stores nothing: a row trigger on every table logs each insert, update and
/// delete, read before and after every request. A NUL in the path is not sent: Kestrel refuses it with 400 before
/// the application (TestServer throws instead); NUL in query strings and bodies is sent.
/// </summary>
public sealed class BadInputSweepTests(BadInputSweepFixture fx, ITestOutputHelper output) : IClassFixture<BadInputSweepFixture>
{
    /// <summary>Credentials of one tenant ("own") and the ids of its resources.</summary>
    private sealed class World
    {
        public Guid TenantId;
        public string ApiKey = "";
        public Guid ApiKeyId;
        public Guid ChannelId;
        public string Secret = "";
        public Guid ConversationId;
        public string ConversationToken = "";
        public string UserToken = "";
        public Guid DirectLineConversation;
        public string DirectLineToken = "";
        public string AttendeeToken = "";
        public readonly Dictionary<string, string> Ids = new(StringComparer.Ordinal);
    }

    private sealed record Operation(string Method, string Path, JsonElement Definition);

    private sealed record Probe(string Label, HttpMethod Method, string Url, HttpContent? Content);

    private int _requests;
    private long _lastChange;
    private readonly List<string> _failures = [];
    private World _own = null!;
    private World _foreign = null!;

    [Fact]
    public async Task Every_operation_answers_bad_input_with_a_problem_and_stores_nothing()
    {
        var clock = Stopwatch.StartNew();
        var document = JsonDocument.Parse(await fx.Api.CreateClient().GetStringAsync("/openapi/v1.json")).RootElement;
        var operations = Operations(document).ToList();
        Assert.True(operations.Count > 80, $"only {operations.Count} operations in the OpenAPI document");

        _foreign = await CreateWorldAsync("sweep-foreign");
        _own = await CreateWorldAsync("sweep-own");
        await InstallChangeLogAsync();
        _lastChange = await LastChangeAsync();

        foreach (var operation in operations)
        {
            await SweepAsync(document, operation);
            if (!await WorldStandsAsync(_own))
            {
                // A valid request revoked a key, rotated the secret or deactivated something: start afresh.
                _own = await CreateWorldAsync("sweep-own");
                _lastChange = await LastChangeAsync();
            }
        }

        var summary = $"Bad-input sweep: {_requests} requests over {operations.Count} operations in {clock.Elapsed.TotalSeconds:0.0} s, {_failures.Count} failures.";
        output.WriteLine(summary);
        Console.WriteLine(summary);
        // One line per operation and kind of failure, so a single root cause does not hide the others.
        var distinct = _failures.GroupBy(f => f.Split(':')[0].Split(" [")[0] + " " + (f.Contains("stored:") ? "stored" : f.Contains("answered") ? "shape" : "5xx"))
            .Select(g => $"{g.Count()}× {g.First()}").ToList();
        foreach (var line in distinct)
        {
            output.WriteLine(line);
        }
        Assert.True(_failures.Count == 0, summary + "\n" + string.Join("\n", distinct.Take(80)));
        Assert.True(_requests > 5000, $"only {_requests} requests were tried");
    }

    // ---- the operations and what to send them ----

    private static IEnumerable<Operation> Operations(JsonElement document)
    {
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var method in path.Value.EnumerateObject())
            {
                if (method.Name is "get" or "post" or "put" or "patch" or "delete")
                {
                    yield return new Operation(method.Name.ToUpperInvariant(), path.Name, method.Value);
                }
            }
        }
    }

    private (string? Bearer, string Label)[] Credentials(World w) =>
    [
        (null, "none"),
        (TestSettings.OperatorKey, "operator key"),
        (w.ApiKey, "tenant API key"),
        (w.Secret, "channel secret"),
        (w.ConversationToken, "conversation token"),
        (w.UserToken, "user token"),
        (w.DirectLineToken, "Direct Line token"),
        (w.AttendeeToken, "attendee token"),
        ("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4In0.", "unsigned JWT"),
    ];

    private async Task SweepAsync(JsonElement document, Operation op)
    {
        var parameters = Parameters(document, op);
        var schema = BodySchema(document, op);
        var takesBody = op.Method is "POST" or "PUT" or "PATCH";
        var sample = takesBody ? Sample(document, schema, _own, 0) ?? new JsonObject() : null;
        var ownUrl = Url(op, parameters, _own, null, null);

        foreach (var (bearer, label) in Credentials(_own))
        {
            var baseline = await SendAsync(op, bearer, label, new Probe("valid-looking", new HttpMethod(op.Method), ownUrl, Json(sample)));
            var refused = baseline is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden;
            // A credential the endpoint refuses gets a few bad requests (refusal must come before harm); one it accepts gets them all.
            foreach (var probe in Probes(document, op, parameters, schema, sample, refused))
            {
                await SendAsync(op, bearer, label, probe);
            }
        }
    }

    private IEnumerable<Probe> Probes(JsonElement document, Operation op, List<(string Name, string In, JsonElement Schema)> parameters,
        JsonElement? schema, JsonNode? sample, bool refused)
    {
        var method = new HttpMethod(op.Method);
        var ownUrl = Url(op, parameters, _own, null, null);
        var takesBody = sample is not null;

        // Another tenant's ids in the path.
        var foreignUrl = Url(op, parameters, _foreign, null, null);
        if (foreignUrl != ownUrl)
        {
            yield return new Probe("foreign ids", method, foreignUrl, Json(sample));
        }
        if (takesBody && Sample(document, schema, _foreign, 0) is { } foreignBody && foreignBody.ToJsonString() != sample!.ToJsonString())
        {
            yield return new Probe("foreign ids in the body", method, ownUrl, Json(foreignBody));
        }
        if (takesBody)
        {
            yield return new Probe("malformed JSON", method, ownUrl, Raw("{\"name\": \"x\", "));
            if (refused)
            {
                yield break;
            }
        }
        else if (refused)
        {
            yield return new Probe("odd path values", method, Url(op, parameters, _own, null, "%ED%A0%80"), null);
            yield break;
        }

        foreach (var (name, location, _) in parameters.Where(p => p.In == "path"))
        {
            foreach (var value in OddPathValues)
            {
                yield return new Probe($"path {name}={Short(value)}", method, Url(op, parameters, _own, name, value), Json(sample));
            }
        }
        foreach (var (name, _, paramSchema) in parameters.Where(p => p.In == "query"))
        {
            foreach (var value in OddQueryValues)
            {
                yield return new Probe($"query {name}={Short(value)}", method, ownUrl + (ownUrl.Contains('?') ? "&" : "?") + name + "=" + value, Json(sample));
            }
        }
        if (!takesBody)
        {
            // Bodies where none is expected, and a query string nobody asked for.
            yield return new Probe("unexpected body", method, ownUrl + (ownUrl.Contains('?') ? "&" : "?") + "zz=%00", Raw("{\"x\":\"\\u0000\"}"));
            yield break;
        }

        foreach (var (label, body) in WholeBodies(sample!))
        {
            yield return new Probe(label, method, ownUrl, body);
        }
        if (sample is JsonObject obj)
        {
            foreach (var (name, value) in obj.ToList())
            {
                var propertySchema = PropertySchema(document, schema, name);
                foreach (var (label, replacement) in Mutations(name, value, propertySchema))
                {
                    var copy = (JsonObject)obj.DeepClone();
                    if (ReferenceEquals(replacement, MissingSentinel))
                    {
                        copy.Remove(name);
                    }
                    else
                    {
                        copy[name] = replacement?.DeepClone();
                    }
                    yield return new Probe($"{name}: {label}", method, ownUrl, Json(copy));
                }
                // One level deeper: each field of a nested object or of an array's first item gets wrong types and odd text.
                var nested = value as JsonObject ?? (value as JsonArray)?.FirstOrDefault() as JsonObject;
                if (nested is not null)
                {
                    foreach (var inner in nested.Select(p => p.Key).ToList())
                    {
                        foreach (var (label, replacement) in Mutations(inner, nested[inner], null).Take(6))
                        {
                            var copy = (JsonObject)obj.DeepClone();
                            var target = copy[name] as JsonObject ?? (JsonObject)((JsonArray)copy[name]!)[0]!;
                            if (ReferenceEquals(replacement, MissingSentinel))
                            {
                                target.Remove(inner);
                            }
                            else
                            {
                                target[inner] = replacement?.DeepClone();
                            }
                            yield return new Probe($"{name}.{inner}: {label}", method, ownUrl, Json(copy));
                        }
                    }
                }
            }
        }
        if (op.Path.EndsWith("/upload", StringComparison.Ordinal))
        {
            foreach (var (label, body) in Multiparts())
            {
                yield return new Probe(label, method, ownUrl, body);
            }
        }
    }

    private static readonly string[] OddPathValues =
    [
        "not-an-id", "00000000-0000-0000-0000-000000000000", Guid.NewGuid().ToString(), "-1", "99999999999999999999999",
        "a%01b%7F", "%ED%A0%80", "%FF%FE", "..%2F..%2Fetc%2Fpasswd", "%E2%80%AEevil", new string('a', 3000),
        "e" + string.Concat(Enumerable.Repeat("%CC%81", 400)), "%F0%9F%91%A8%E2%80%8D%F0%9F%91%A9%E2%80%8D%F0%9F%91%A7",
    ];

    private static readonly string[] OddQueryValues =
    [
        "abc", "-1", "0", "99999999999999999999999", "1e308", "%00", "%ED%A0%80", "%FF", new string('z', 3000), "%E2%80%AE",
        "2026-13-45T99:99:99Z", "[]",
    ];

    private IEnumerable<(string Label, JsonNode? Value)> Mutations(string name, JsonNode? value, JsonElement? schema)
    {
        var kind = value?.GetValueKind();
        yield return ("missing", MissingSentinel);
        yield return ("null", null);
        yield return ("wrong type (object)", new JsonObject { ["a"] = 1 });
        yield return ("wrong type (array)", new JsonArray(1, "two", null));
        yield return ("wrong type (bool)", JsonValue.Create(true));
        if (kind is JsonValueKind.String)
        {
            yield return ("wrong type (number)", JsonValue.Create(12345));
            foreach (var (label, text) in OddStrings)
            {
                yield return (label, JsonValue.Create(text));
            }
            for (var i = 0; i < RawStrings.Length; i++)
            {
                yield return (RawStrings[i].Label, JsonValue.Create($"@@raw{i}@@"));
            }
            yield return ("foreign id", JsonValue.Create(_foreign.ChannelId.ToString()));
            yield return ("not a date or id", JsonValue.Create("31/02/2026 25:61"));
        }
        else if (kind is JsonValueKind.Number)
        {
            yield return ("wrong type (string)", JsonValue.Create("12"));
            foreach (var number in ExtremeNumbers)
            {
                yield return ($"number {number}", JsonNode.Parse(number));
            }
        }
        else if (kind is JsonValueKind.Array)
        {
            yield return ("wrong type (string)", JsonValue.Create("a,b"));
            yield return ("empty array", new JsonArray());
            var item = ((JsonArray)value!).FirstOrDefault()?.DeepClone() ?? JsonValue.Create("x");
            yield return ("20,000 items", new JsonArray([.. Enumerable.Range(0, 20_000).Select(_ => item.DeepClone())]));
            yield return ("odd items", new JsonArray(JsonValue.Create("\0"), JsonValue.Create(new string('q', 50_000)), null, new JsonObject()));
        }
        else if (kind is JsonValueKind.Object)
        {
            yield return ("wrong type (string)", JsonValue.Create("{}"));
            yield return ("empty object", new JsonObject());
            yield return ("2,000 keys", new JsonObject(Enumerable.Range(0, 2000).Select(i => KeyValuePair.Create<string, JsonNode?>($"k{i}", JsonValue.Create(i)))));
        }
        else if (kind is JsonValueKind.True or JsonValueKind.False)
        {
            yield return ("wrong type (string)", JsonValue.Create("true"));
            yield return ("wrong type (number)", JsonValue.Create(1));
        }
        _ = name;
        _ = schema;
    }

    private static readonly JsonNode MissingSentinel = JsonValue.Create("\u0001missing\u0001")!;

    private static readonly (string Label, string Text)[] OddStrings =
    [
        ("empty", ""),
        ("blank", "   \t\n"),
        ("200,000 characters", new string('a', 200_000)),
        ("10,000 characters", new string('b', 10_000)),
        ("RTL override", "\u202egnp.exe\u202c"),
        ("zero-width and BOM", "\u200b\u200d\ufeff"),
        ("long grapheme cluster", "e" + new string('\u0301', 5000)),
        ("emoji ZWJ sequence", string.Concat(Enumerable.Repeat("\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D", 500))),
        ("control characters", "\u0007\u001b[31m\u007f\u0085"),
        ("noncharacters", "\uffff\ufffe"),
        ("SQL and path", "'; DROP TABLE x; -- ../../etc/passwd"),
        ("URL to loopback", "http://127.0.0.1:1/x"),
    ];

    /// <summary>Strings only JSON escapes can carry (a .NET string with a lone surrogate cannot be serialised).</summary>
    private static readonly (string Label, string Json)[] RawStrings =
    [
        ("NUL", "\"a\\u0000b\""),
        ("lone high surrogate", "\"x\\ud800y\""),
        ("lone low surrogate", "\"\\udc00\""),
        ("reversed surrogate pair", "\"\\udc00\\ud800\""),
    ];

    private static readonly string[] ExtremeNumbers =
    [
        "0", "-1", "1.5", "1e308", "-1e308", "9223372036854775808", "-9223372036854775809", "2147483648", "1e-400",
        "123456789012345678901234567890", "-0",
    ];

    private static IEnumerable<(string Label, HttpContent Body)> WholeBodies(JsonNode sample)
    {
        yield return ("empty body", Raw(""));
        yield return ("whitespace body", Raw("  \n "));
        yield return ("JSON null", Raw("null"));
        yield return ("JSON array", Raw("[]"));
        yield return ("JSON string", Raw("\"x\""));
        yield return ("JSON number", Raw("1e999"));
        yield return ("truncated", Raw(sample.ToJsonString()[..^1]));
        yield return ("trailing garbage", Raw(sample.ToJsonString() + "}{"));
        yield return ("comments", Raw("/* c */" + sample.ToJsonString()));
        yield return ("single quotes", Raw("{'a': 'b'}"));
        yield return ("duplicate keys", Raw(sample is JsonObject o && o.Count > 0
            ? "{" + string.Join(",", o.Select(p => $"\"{p.Key}\":{p.Value?.ToJsonString() ?? "null"}").Concat(o.Select(p => $"\"{p.Key}\":123"))) + "}"
            : "{\"a\":1,\"a\":2}"));
        yield return ("empty object", Raw("{}"));
        yield return ("extra fields", Json(WithExtra(sample))!);
        yield return ("deep nesting", Raw(new string('[', 5000) + new string(']', 5000)));
        yield return ("300 KB body", Raw("{\"pad\":\"" + new string('p', 300_000) + "\"}"));
        yield return ("invalid UTF-8", new ByteArrayContent([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0xff, 0x22, 0x7d]) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } });
        yield return ("text/plain", new StringContent(sample.ToJsonString(), Encoding.UTF8, "text/plain"));
        yield return ("form content", new FormUrlEncodedContent([KeyValuePair.Create("a", "b")]));
    }

    private static JsonNode WithExtra(JsonNode sample)
    {
        if (sample is not JsonObject obj)
        {
            return sample;
        }
        var copy = (JsonObject)obj.DeepClone();
        copy["zzExtra"] = "\0extra";
        copy["tenantId"] = Guid.NewGuid().ToString();
        copy["id"] = Guid.NewGuid().ToString();
        copy["__proto__"] = new JsonObject { ["admin"] = true };
        return copy;
    }

    private static IEnumerable<(string Label, HttpContent Body)> Multiparts()
    {
        yield return ("multipart without boundary", new ByteArrayContent("--x\r\n\r\n"u8.ToArray()) { Headers = { ContentType = MediaTypeHeaderValue.Parse("multipart/form-data") } });
        yield return ("multipart truncated", new ByteArrayContent("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nabc"u8.ToArray())
        {
            Headers = { ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b") },
        });
        var odd = new MultipartFormDataContent();
        var file = new ByteArrayContent([0, 1, 2]);
        file.Headers.ContentType = MediaTypeHeaderValue.Parse("application/octet-stream");
        odd.Add(file, "file", "..%2F..%2Fetc%2Fpasswd\u202e");
        odd.Add(new StringContent("{\"type\":\"message\",\"text\":\"\\u0000\\ud800\"}", Encoding.UTF8, "application/json"), "activity");
        yield return ("multipart odd names and activity", odd);
        var bad = new MultipartFormDataContent { { new StringContent("{not json", Encoding.UTF8, "application/json"), "activity" } };
        yield return ("multipart malformed activity", bad);
        var unnamed = new ByteArrayContent([]);
        unnamed.Headers.ContentDisposition = ContentDispositionHeaderValue.Parse("form-data; name=\"file\"; filename=\"\"");
        yield return ("multipart empty file name", new MultipartFormDataContent { unnamed });
    }

    // ---- schemas ----

    private static List<(string Name, string In, JsonElement Schema)> Parameters(JsonElement document, Operation op)
    {
        var list = new List<(string, string, JsonElement)>();
        if (op.Definition.TryGetProperty("parameters", out var ps))
        {
            foreach (var p in ps.EnumerateArray())
            {
                var resolved = Resolve(document, p);
                list.Add((resolved.GetProperty("name").GetString()!, resolved.GetProperty("in").GetString()!,
                    resolved.TryGetProperty("schema", out var s) ? s : default));
            }
        }
        // Path parameters the document does not list (a catch-all, say) are still filled.
        foreach (var segment in op.Path.Split('/').Where(s => s.StartsWith('{')))
        {
            var name = segment.Trim('{', '}').TrimStart('*').Split(':')[0];
            if (!list.Any(p => p.Item1 == name && p.Item2 == "path"))
            {
                list.Add((name, "path", default));
            }
        }
        return list;
    }

    private static JsonElement? BodySchema(JsonElement document, Operation op)
    {
        if (op.Definition.TryGetProperty("requestBody", out var body) &&
            Resolve(document, body).TryGetProperty("content", out var content) &&
            content.TryGetProperty("application/json", out var json) && json.TryGetProperty("schema", out var schema))
        {
            return Resolve(document, schema);
        }
        return null;
    }

    private static JsonElement? PropertySchema(JsonElement document, JsonElement? schema, string name)
    {
        foreach (var (key, value) in Properties(document, schema))
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }
        return null;
    }

    private static IEnumerable<(string Key, JsonElement Value)> Properties(JsonElement document, JsonElement? schema)
    {
        if (schema is { ValueKind: JsonValueKind.Object } s && s.TryGetProperty("properties", out var props))
        {
            foreach (var p in props.EnumerateObject())
            {
                yield return (p.Name, Resolve(document, p.Value));
            }
        }
    }

    private static JsonElement Resolve(JsonElement document, JsonElement element)
    {
        for (var i = 0; i < 10 && element.ValueKind == JsonValueKind.Object && element.TryGetProperty("$ref", out var reference); i++)
        {
            var node = document;
            foreach (var part in reference.GetString()!.TrimStart('#', '/').Split('/'))
            {
                node = node.GetProperty(part);
            }
            element = node;
        }
        return element;
    }

    private static string TypeOf(JsonElement schema)
    {
        if (schema.ValueKind != JsonValueKind.Object)
        {
            return "";
        }
        if (schema.TryGetProperty("type", out var type))
        {
            return type.ValueKind == JsonValueKind.Array
                ? type.EnumerateArray().Select(t => t.GetString()!).FirstOrDefault(t => t != "null") ?? "null"
                : type.GetString() ?? "";
        }
        foreach (var combinator in new[] { "oneOf", "anyOf", "allOf" })
        {
            if (schema.TryGetProperty(combinator, out var options))
            {
                return options.EnumerateArray().Select(TypeOf).FirstOrDefault(t => t is not ("" or "null")) ?? "";
            }
        }
        return schema.TryGetProperty("properties", out _) ? "object" : "";
    }

    /// <summary>A plausible value for a schema: ids of the given world where a property names one.</summary>
    private static JsonNode? Sample(JsonElement document, JsonElement? schema, World world, int depth, string? name = null)
    {
        if (schema is not { ValueKind: JsonValueKind.Object } s || depth > 4)
        {
            return depth == 0 ? new JsonObject() : JsonValue.Create("x");
        }
        foreach (var combinator in new[] { "oneOf", "anyOf", "allOf" })
        {
            if (s.TryGetProperty(combinator, out var options))
            {
                var first = options.EnumerateArray().Select(o => Resolve(document, o)).FirstOrDefault(o => TypeOf(o) is not ("" or "null"));
                if (first.ValueKind == JsonValueKind.Object)
                {
                    return Sample(document, first, world, depth, name);
                }
            }
        }
        var format = s.TryGetProperty("format", out var f) ? f.GetString() : null;
        switch (TypeOf(s))
        {
            case "object":
                var obj = new JsonObject();
                foreach (var (key, value) in Properties(document, s))
                {
                    obj[key] = Sample(document, value, world, depth + 1, key);
                }
                return obj;
            case "array":
                return new JsonArray(Sample(document, s.TryGetProperty("items", out var items) ? Resolve(document, items) : null, world, depth + 1, name));
            case "integer":
                return JsonValue.Create(1);
            case "number":
                return JsonValue.Create(1.5);
            case "boolean":
                return JsonValue.Create(true);
            case "string" when format == "uuid":
                return JsonValue.Create(IdFor(world, name ?? "") ?? Guid.NewGuid().ToString());
            case "string" when format == "date-time":
                return JsonValue.Create(DateTimeOffset.UtcNow.AddDays(1).ToString("O"));
            case "string" when s.TryGetProperty("enum", out var values) && values.GetArrayLength() > 0:
                return JsonValue.Create(values[0].GetString());
            case "string":
                return JsonValue.Create(name is null ? "x" : $"sweep {name}");
            default:
                return JsonValue.Create("x");
        }
    }

    /// <summary>The world's id for a parameter or property name (channelId, conferenceId, …), by the resource it names.</summary>
    private static string? IdFor(World world, string name) =>
        world.Ids.TryGetValue(name.EndsWith("Id", StringComparison.Ordinal) ? name[..^2].ToLowerInvariant() : name.ToLowerInvariant(), out var id) ? id : null;

    private static string Url(Operation op, List<(string Name, string In, JsonElement Schema)> parameters, World world, string? oddName, string? oddValue)
    {
        var segments = op.Path.Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            if (!segments[i].StartsWith('{'))
            {
                continue;
            }
            var name = segments[i].Trim('{', '}').TrimStart('*').Split(':')[0];
            if (oddValue is not null && (oddName is null || oddName == name))
            {
                segments[i] = oddValue;
                continue;
            }
            segments[i] = PathValue(op.Path, i > 0 ? segments[i - 1] : "", name, world);
        }
        return string.Join('/', segments);
    }

    private static string PathValue(string path, string previous, string name, World world)
    {
        if (name == "userId")
        {
            return "sweep-user";
        }
        if (name == "source")
        {
            return "sweep";
        }
        if (name == "purpose")
        {
            return "matching";
        }
        if (name == "name")
        {
            return "impact.rejections-prune";
        }
        if (name == "path")
        {
            return "conversations";
        }
        var resource = previous switch
        {
            "conversations" when path.StartsWith("/v3/directline", StringComparison.Ordinal) => "directline",
            "api-keys" => "apikey",
            _ => previous.TrimEnd('s'),
        };
        if (name != "id" && name.EndsWith("Id", StringComparison.Ordinal))
        {
            resource = name[..^2].ToLowerInvariant();
        }
        return world.Ids.TryGetValue(resource, out var id) ? id : name is "id" && path.Contains("/jobs/") ? "1" : Guid.NewGuid().ToString();
    }

    // ---- sending and judging ----

    private static StringContent Raw(string text) => new(text, Encoding.UTF8, "application/json");

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static HttpContent? Json(JsonNode? node)
    {
        if (node is null)
        {
            return null;
        }
        var text = node.ToJsonString(Relaxed);
        for (var i = 0; i < RawStrings.Length; i++)
        {
            text = text.Replace($"\"@@raw{i}@@\"", RawStrings[i].Json, StringComparison.Ordinal);
        }
        return Raw(text);
    }

    private static string Short(string value) => value.Length > 24 ? value[..24] + "…" : value;

    private async Task<HttpStatusCode> SendAsync(Operation op, string? bearer, string credential, Probe probe)
    {
        using var request = new HttpRequestMessage(probe.Method, probe.Url) { Content = probe.Content };
        if (bearer is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + bearer);
        }
        HttpResponseMessage response;
        string body;
        try
        {
            response = await fx.Api.CreateClient().SendAsync(request);
            body = await response.Content.ReadAsStringAsync();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _requests++;
            _failures.Add($"{op.Method} {op.Path} [{credential}] {probe.Label}: the server threw {ex.GetType().Name}: {ex.Message}");
            return 0;
        }
        _requests++;
        var status = (int)response.StatusCode;
        var where = $"{op.Method} {op.Path} [{credential}] {probe.Label}";
        if (status >= 500)
        {
            _failures.Add($"{where}: {status} {Short(body.Replace('\n', ' '), 300)}");
        }
        var changes = await ChangesSinceAsync();
        if (status is >= 400 and < 500)
        {
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            var directLine = op.Path.StartsWith("/v3/directline", StringComparison.Ordinal);
            if (directLine ? !IsDirectLineError(mediaType, body) : mediaType != "application/problem+json")
            {
                _failures.Add($"{where}: {status} answered {mediaType ?? "no content type"}: {Short(body, 200)}");
            }
            if (changes.Count > 0 && !Expected(op, changes))
            {
                _failures.Add($"{where}: {status} but stored: {string.Join(", ", changes)}");
            }
        }
        if (probe.Label.StartsWith("foreign ids", StringComparison.Ordinal) && status is >= 200 and < 300 && bearer != TestSettings.OperatorKey && op.Method != "GET" && changes.Count > 0)
        {
            _failures.Add($"{where}: another tenant's ids changed something ({status}): {string.Join(", ", changes)}");
        }
        return response.StatusCode;
    }

    private static string Short(string value, int length) => value.Length > length ? value[..length] + "…" : value;

    private static bool IsDirectLineError(string? mediaType, string body)
    {
        if (mediaType != "application/json")
        {
            return false;
        }
        try
        {
            return JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("code").ValueKind == JsonValueKind.String;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>
    /// A rejected impact webhook is counted by design (one row per tenant, source, reason, address and hour, with
    /// an attempts counter): the only write a refused request may make.
    /// </summary>
    private static bool Expected(Operation op, List<string> changes) =>
        op.Path == "/v1/impact/webhooks/{source}" && changes.All(c => c.StartsWith("impact.webhook_rejections", StringComparison.Ordinal));

    // ---- the change log ----

    private async Task InstallChangeLogAsync()
    {
        await using var conn = new NpgsqlConnection(fx.Database);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            CREATE SCHEMA zz_sweep;
            CREATE TABLE zz_sweep.changes (id bigserial PRIMARY KEY, tbl text NOT NULL, op text NOT NULL);
            CREATE FUNCTION zz_sweep.log() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
            BEGIN
                INSERT INTO zz_sweep.changes (tbl, op) VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP);
                RETURN NULL;
            END $$;
            DO $$
            DECLARE t record;
            BEGIN
                FOR t IN SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                         WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
                           AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'zz_sweep') AND n.nspname NOT LIKE 'pg_%'
                LOOP
                    EXECUTE format('CREATE TRIGGER zz_sweep_log AFTER INSERT OR UPDATE OR DELETE ON %I.%I FOR EACH ROW EXECUTE FUNCTION zz_sweep.log()',
                                   t.nspname, t.relname);
                END LOOP;
            END $$;
            """, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    private async Task<long> LastChangeAsync()
    {
        await using var conn = new NpgsqlConnection(fx.Database);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT coalesce(max(id), 0) FROM zz_sweep.changes", conn);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private async Task<List<string>> ChangesSinceAsync()
    {
        await using var conn = new NpgsqlConnection(fx.Database);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT id, tbl, op FROM zz_sweep.changes WHERE id > $1 ORDER BY id", conn);
        cmd.Parameters.AddWithValue(_lastChange);
        var list = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            _lastChange = reader.GetInt64(0);
            list.Add($"{reader.GetString(1)} {reader.GetString(2)}");
        }
        return [.. list.Distinct()];
    }

    // ---- the worlds ----

    private HttpClient Client(string? bearer)
    {
        var client = fx.Api.CreateClient();
        if (bearer is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }
        return client;
    }

    private static async Task<JsonElement> CreatedAsync(HttpResponseMessage response, string what)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{what}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task<World> CreateWorldAsync(string name)
    {
        var w = new World();
        var tenant = await CreatedAsync(await Client(TestSettings.OperatorKey).PostAsJsonAsync("/v1/tenants", new { name }), "tenant");
        w.TenantId = tenant.GetProperty("id").GetGuid();
        w.ApiKey = tenant.GetProperty("apiKey").GetString()!;
        var key = await CreatedAsync(await Client(TestSettings.OperatorKey).PostAsync($"/v1/tenants/{w.TenantId}/api-keys", null), "api key");
        w.ApiKeyId = key.GetProperty("id").GetGuid();
        var channel = await CreatedAsync(await Client(w.ApiKey).PostAsJsonAsync("/v1/channels", new { name = "web" }), "channel");
        w.ChannelId = channel.GetProperty("id").GetGuid();
        w.Secret = channel.GetProperty("secret").GetString()!;
        var conversation = await CreatedAsync(await Client(w.ApiKey).PostAsJsonAsync("/v1/conversations", new { channelId = w.ChannelId }), "conversation");
        w.ConversationId = conversation.GetProperty("id").GetGuid();
        w.ConversationToken = (await CreatedAsync(await Client(w.ApiKey).PostAsJsonAsync($"/v1/conversations/{w.ConversationId}/tokens",
            new { userId = "sweep-user" }), "conversation token")).GetProperty("token").GetString()!;
        w.UserToken = (await CreatedAsync(await Client(w.ApiKey).PostAsJsonAsync("/v1/users/sweep-user/tokens",
            new { roles = new[] { "member", "team_lead", "community_manager", "compliance_officer", "ops" } }), "user token")).GetProperty("token").GetString()!;
        var directLine = await CreatedAsync(await Client(w.Secret).PostAsJsonAsync("/v3/directline/tokens/generate", new { user = new { id = "dl_sweep" } }), "Direct Line token");
        w.DirectLineToken = directLine.GetProperty("token").GetString()!;
        w.DirectLineConversation = Guid.Parse(directLine.GetProperty("conversationId").GetString()!);
        var conference = await CreatedAsync(await Client(w.ApiKey).PostAsJsonAsync("/v1/events/conferences", new { name = "SweepConf" }), "conference");
        var conferenceId = conference.GetProperty("id").GetGuid();
        await CreatedAsync(await Client(w.ApiKey).PutAsJsonAsync($"/v1/events/conferences/{conferenceId}/attendees/sweep-user",
            new { displayName = "Sweep", kind = "attendee", consentToMatch = true, consentToInvites = true }), "attendee");
        w.AttendeeToken = (await CreatedAsync(await Client(w.ApiKey).PostAsync($"/v1/events/conferences/{conferenceId}/attendees/sweep-user/token", null),
            "attendee token")).GetProperty("token").GetString()!;

        w.Ids["tenant"] = w.TenantId.ToString();
        w.Ids["apikey"] = w.ApiKeyId.ToString();
        w.Ids["key"] = w.ApiKeyId.ToString();
        w.Ids["channel"] = w.ChannelId.ToString();
        w.Ids["conversation"] = w.ConversationId.ToString();
        w.Ids["directline"] = w.DirectLineConversation.ToString();
        w.Ids["conference"] = conferenceId.ToString();
        // Resources some operations address; each is made through the API as a tenant would.
        await TryIdAsync(w, "company", Client(w.ApiKey).PostAsJsonAsync("/v1/impact/companies", new { name = "Sweep Co" }));
        await TryIdAsync(w, "gathering", Client(w.ApiKey).PostAsJsonAsync("/v1/gatherings",
            new { conferenceId, topic = "sweep", tags = new[] { "x" }, place = "hall", startsAt = DateTimeOffset.UtcNow.AddDays(1),
                endsAt = DateTimeOffset.UtcNow.AddDays(1).AddHours(1), capacity = 5 }));
        await TryIdAsync(w, "webhook", Client(w.ApiKey).PostAsJsonAsync("/v1/webhooks", new { url = "https://hooks.example.com/x", eventTypes = new[] { "activity.created" } }));
        await TryIdAsync(w, "survey", Client(w.UserToken).PostAsJsonAsync("/v1/pulse/surveys", new { title = "Sweep", team = "t" }));
        await TryIdAsync(w, "idea", Client(w.UserToken).PostAsJsonAsync("/v1/innovation/ideas", new { title = "Sweep idea", team = "t" }));
        await TryIdAsync(w, "report", Client(w.ApiKey).PostAsJsonAsync("/v1/intelligence/reports", new { conferenceId }));
        await TryIdAsync(w, "approval", Client(w.UserToken).PostAsJsonAsync("/v1/approvals/request", new { kind = "nudge", subjectUserId = "someone", payload = new { message = "hi" } }));
        return w;
    }

    private async Task TryIdAsync(World w, string resource, Task<HttpResponseMessage> call)
    {
        var response = await call;
        var text = await response.Content.ReadAsStringAsync();
        if (response.IsSuccessStatusCode && JsonDocument.Parse(text).RootElement is { ValueKind: JsonValueKind.Object } root &&
            root.TryGetProperty("id", out var id))
        {
            w.Ids[resource] = id.ValueKind == JsonValueKind.String ? id.GetString()! : id.GetRawText();
        }
        else
        {
            output.WriteLine($"seed {resource}: {(int)response.StatusCode} {Short(text, 200)} (a random id stands in)");
        }
    }

    private async Task<bool> WorldStandsAsync(World w)
    {
        var checks = new (string Bearer, string Url)[]
        {
            (w.ApiKey, "/v1/channels"),
            (w.Secret, $"/v1/conversations/{w.ConversationId}"),
            (w.ConversationToken, $"/v1/conversations/{w.ConversationId}"),
            (w.UserToken, "/v1/me/notifications"),
            (w.DirectLineToken, $"/v3/directline/conversations/{w.DirectLineConversation}/activities"),
        };
        foreach (var (bearer, url) in checks)
        {
            if (!(await Client(bearer).GetAsync(url)).IsSuccessStatusCode)
            {
                output.WriteLine($"world broken at {url}; rebuilt");
                return false;
            }
        }
        return true;
    }
}
