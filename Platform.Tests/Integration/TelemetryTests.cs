using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Platform.Tests.Integration;

public sealed class TelemetryTests
{
    [Fact]
    public async Task Api_exports_spans_over_otlp_http_with_the_configured_service_name()
    {
        var received = new ConcurrentQueue<OtlpTraceRequest>();
        await using var collector = await StubServer.StartAsync(app =>
        {
            app.MapPost("/v1/traces", async (HttpRequest request) =>
            {
                using var ms = new MemoryStream();
                await request.Body.CopyToAsync(ms);
                received.Enqueue(OtlpTraceRequest.Parse(ms.ToArray()));
                return Results.Ok();
            });
            app.MapPost("/v1/{signal}", () => Results.Ok());
        });

        var settings = TestSettings.For(await TestEnvironment.CreateDatabaseAsync("otel"), await TestEnvironment.RedisAsync());
        settings["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.BaseAddress.ToString().TrimEnd('/');
        settings["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        settings["OTEL_SERVICE_NAME"] = "api-under-test";
        settings["OTEL_RESOURCE_ATTRIBUTES"] = "deployment.environment=test";
        await using var api = new ApiFactory(settings);
        var client = api.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/openapi/v1.json")).StatusCode);

        var batch = await Eventually.ReturnsAsync(
            () => Task.FromResult(received.FirstOrDefault(r =>
                r.Resources.Any(res => res.Attributes.GetValueOrDefault("service.name") == "api-under-test" &&
                                       r.SpanAttributeValues.Contains("/openapi/v1.json")))),
            r => r is not null, TimeSpan.FromSeconds(30), "an exported server span from api-under-test");

        Assert.Contains(batch!.Resources, r => r.Attributes.GetValueOrDefault("deployment.environment") == "test");
        // Health probes are not traced.
        Assert.DoesNotContain(received, r =>
            r.Resources.Any(res => res.Attributes.GetValueOrDefault("service.name") == "api-under-test") &&
            r.SpanAttributeValues.Any(v => v.StartsWith("/health", StringComparison.Ordinal)));
    }
}

/// <summary>
/// Just enough of the OTLP protobuf (ExportTraceServiceRequest) to read resource attributes and the string
/// attribute values of spans, without a protobuf library.
/// </summary>
internal sealed record OtlpTraceRequest(List<OtlpResource> Resources, List<string> SpanAttributeValues)
{
    public static OtlpTraceRequest Parse(byte[] data)
    {
        var resources = new List<OtlpResource>();
        var values = new List<string>();
        foreach (var (field, resourceSpans) in Fields(data))
        {
            if (field != 1) continue; // resource_spans
            foreach (var (f, payload) in Fields(resourceSpans))
            {
                if (f == 1) // resource
                {
                    var attrs = new Dictionary<string, string>();
                    foreach (var (rf, kv) in Fields(payload))
                    {
                        if (rf == 1 && KeyValue(kv) is { } pair) attrs[pair.Key] = pair.Value;
                    }
                    resources.Add(new OtlpResource(attrs));
                }
                else if (f == 2) // scope_spans
                {
                    foreach (var (sf, span) in Fields(payload))
                    {
                        if (sf != 2) continue; // spans
                        foreach (var (spf, kv) in Fields(span))
                        {
                            if (spf == 9 && KeyValue(kv) is { } pair) values.Add(pair.Value); // attributes
                        }
                    }
                }
            }
        }
        return new OtlpTraceRequest(resources, values);
    }

    private static KeyValuePair<string, string>? KeyValue(byte[] kv)
    {
        string? key = null, value = null;
        foreach (var (f, p) in Fields(kv))
        {
            if (f == 1) key = Encoding.UTF8.GetString(p);
            else if (f == 2)
            {
                foreach (var (af, ap) in Fields(p))
                {
                    if (af == 1) value = Encoding.UTF8.GetString(ap); // string_value
                }
            }
        }
        return key is null ? null : new(key, value ?? "");
    }

    /// <summary>Length-delimited fields of a message; other wire types are skipped.</summary>
    private static IEnumerable<(int Field, byte[] Payload)> Fields(byte[] data)
    {
        var i = 0;
        while (i < data.Length)
        {
            var tag = (int)Varint(data, ref i);
            var wire = tag & 7;
            switch (wire)
            {
                case 0: Varint(data, ref i); break;
                case 1: i += 8; break;
                case 5: i += 4; break;
                case 2:
                    var len = (int)Varint(data, ref i);
                    yield return (tag >> 3, data[i..(i + len)]);
                    i += len;
                    break;
                default: yield break;
            }
        }
    }

    private static ulong Varint(byte[] data, ref int i)
    {
        ulong result = 0;
        var shift = 0;
        while (true)
        {
            var b = data[i++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
            shift += 7;
        }
    }
}

internal sealed record OtlpResource(Dictionary<string, string> Attributes);
