using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// OpenTelemetry without OpenTelemetry.Extensions.Hosting or the instrumentation packages (they do not
/// restore here): the SDK is built with <see cref="OpenTelemetrySdk.Create"/> and subscribes to the
/// sources and meters the libraries emit natively.
/// </summary>
public static class TelemetryExtensions
{
    /// <summary>Activity sources the platform listens to. <c>Platform.*</c> covers every own source.</summary>
    public static readonly string[] Sources = ["Microsoft.AspNetCore", "System.Net.Http", "Npgsql", "Platform.*"];

    /// <summary>Meters the platform exports.</summary>
    public static readonly string[] Meters =
    [
        "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Http.Connections",
        "Microsoft.AspNetCore.Routing", "Microsoft.AspNetCore.Diagnostics", "Microsoft.AspNetCore.RateLimiting",
        "Microsoft.AspNetCore.Components", "Microsoft.AspNetCore.Components.Server.Circuits",
        "System.Net.Http", "System.Net.NameResolution", "System.Runtime", "Npgsql", "Microsoft.EntityFrameworkCore",
        "Platform.*",
    ];

    public static IHostApplicationBuilder ConfigurePlatformTelemetry(this IHostApplicationBuilder builder)
    {
        // ASP.NET Core 10 leaves HTTP semantic-convention tags off its server Activity unless this is false.
        AppContext.SetSwitch("Microsoft.AspNetCore.Hosting.SuppressActivityOpenTelemetryData", false);

        var config = builder.Configuration;
        var serviceName = config["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : builder.Environment.ApplicationName;
        var endpoint = config["OTEL_EXPORTER_OTLP_ENDPOINT"];
        var exporting = !string.IsNullOrWhiteSpace(endpoint);

        var sdk = OpenTelemetrySdk.Create(otel =>
        {
            otel.ConfigureResource(r => r
                .AddService(serviceName, serviceInstanceId: Environment.MachineName + ":" + Environment.ProcessId)
                .AddAttributes(ParseResourceAttributes(config["OTEL_RESOURCE_ATTRIBUTES"])));
            otel.WithTracing(t => t
                .SetSampler(new HealthProbeFilteringSampler(new ParentBasedSampler(new AlwaysOnSampler())))
                .AddSource(Sources));
            otel.WithMetrics(m => m.AddMeter(Meters));
            if (exporting)
            {
                otel.WithLogging(configureBuilder: null, configureOptions: o =>
                {
                    o.IncludeFormattedMessage = true;
                    o.IncludeScopes = true;
                });
                otel.UseOtlpExporter(ParseProtocol(config["OTEL_EXPORTER_OTLP_PROTOCOL"]), new Uri(endpoint!));
            }
        });

        // The container disposes the SDK on shutdown, which flushes what is buffered.
        builder.Services.AddSingleton(sdk);
        if (exporting)
        {
            builder.Logging.AddProvider(new SdkLoggerProvider(sdk.GetLoggerFactory()));
        }
        return builder;
    }

    public static OtlpExportProtocol ParseProtocol(string? value) =>
        value?.Trim().ToLowerInvariant() switch
        {
            "http/protobuf" => OtlpExportProtocol.HttpProtobuf,
            null or "" or "grpc" => OtlpExportProtocol.Grpc,
            var other => throw new InvalidOperationException(
                $"OTEL_EXPORTER_OTLP_PROTOCOL '{other}' is not supported; use 'grpc' or 'http/protobuf'."),
        };

    public static IEnumerable<KeyValuePair<string, object>> ParseResourceAttributes(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            yield break;
        }
        foreach (var pair in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                yield return new(Uri.UnescapeDataString(pair[..eq].Trim()), Uri.UnescapeDataString(pair[(eq + 1)..].Trim()));
            }
        }
    }

    /// <summary>Drops the server spans of health probes (they would drown real traffic), like the template's filter.</summary>
    private sealed class HealthProbeFilteringSampler(Sampler inner) : Sampler
    {
        public override SamplingResult ShouldSample(in SamplingParameters parameters)
        {
            if (parameters.Tags is not null)
            {
                foreach (var tag in parameters.Tags)
                {
                    if (tag.Key == "url.path" && tag.Value is string path &&
                        (path.StartsWith(ServiceDefaultsExtensions.HealthPath, StringComparison.Ordinal) ||
                         path.StartsWith(ServiceDefaultsExtensions.AlivePath, StringComparison.Ordinal)))
                    {
                        return new SamplingResult(SamplingDecision.Drop);
                    }
                }
            }
            return inner.ShouldSample(parameters);
        }
    }

    /// <summary>Routes the host's logs into the SDK's logger factory (and from there to OTLP).</summary>
    private sealed class SdkLoggerProvider(ILoggerFactory factory) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => factory.CreateLogger(categoryName);

        public void Dispose()
        {
            // The factory belongs to the SDK, which the container disposes.
        }
    }
}
