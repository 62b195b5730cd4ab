using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// What every Platform service shares, in the shape of the Aspire ServiceDefaults template: OpenTelemetry
/// (exported over OTLP when the AppHost sets OTEL_EXPORTER_OTLP_ENDPOINT), health endpoints, service
/// discovery and the standard HttpClient resilience handler, plus RFC 9457 problem details.
/// </summary>
public static class ServiceDefaultsExtensions
{
    public const string HealthPath = "/health";
    public const string AlivePath = "/alive";
    public const string LiveTag = "live";

    /// <summary>Every activity source and meter of the platform's own code is named <c>Platform.*</c>.</summary>
    public const string PlatformTelemetryNames = "Platform.*";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.KeepUrlsOutOfLogs();
        builder.AddDefaultHealthChecks();
        builder.Services.AddProblemDetails();

        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            // A create whose answer was lost must not run twice: POST and PATCH are never retried.
            // PUT and DELETE are idempotent by contract and keep the template's retries.
            http.AddStandardResilienceHandler(o => o.Retry.DisableFor(HttpMethod.Post, HttpMethod.Patch));
            http.AddServiceDiscovery();
        });
        return builder;
    }

    /// <summary>Categories whose messages print a request's URL (the hosting start/finish lines at Information, route matching at Debug).</summary>
    public static readonly string[] UrlLoggingCategories =
        ["Microsoft.AspNetCore.Hosting.Diagnostics", "Microsoft.AspNetCore.HttpLogging", "Microsoft.AspNetCore.Routing.Matching"];

    /// <summary>
    /// Request URLs carry credentials: client tokens in <c>?t=</c> on streams, share-link tokens in the path. The
    /// framework's request start/finish messages print the whole URL, so those categories are held at Warning for every
    /// logging provider, added after configuration so no <c>Logging:LogLevel</c> setting can lower them. (Traces keep
    /// only a redacted query: OpenTelemetry's ASP.NET Core and HttpClient instrumentation redact query values.)
    /// </summary>
    public static TBuilder KeepUrlsOutOfLogs<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.PostConfigure<LoggerFilterOptions>(o =>
        {
            foreach (var provider in new string?[] { null, "Console", "Debug", "EventSource", "EventLog", "OpenTelemetry" })
            {
                foreach (var category in UrlLoggingCategories)
                {
                    o.Rules.Add(new LoggerFilterRule(provider, category, LogLevel.Warning, null));
                }
            }
        });
        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(PlatformTelemetryNames))
            .WithTracing(tracing => tracing
                .SetSampler(new BackgroundClientSpanSampler(new ParentBasedSampler(new AlwaysOnSampler())))
                .AddSource(builder.Environment.ApplicationName)
                .AddSource(PlatformTelemetryNames)
                // Health probes arrive every few seconds from the AppHost; their spans would drown real traffic.
                .AddAspNetCoreInstrumentation(o => o.Filter = context => !IsHealthRequest(context.Request.Path))
                .AddHttpClientInstrumentation());

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }
        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        // Every error answers with RFC 9457 problem details: unhandled exceptions and bare status codes alike.
        app.UseExceptionHandler();
        app.UseStatusCodePages();

        // A probe's request span is not exported (see the instrumentation filter); unmarking it as recorded keeps its
        // database and Redis calls out of the traces too, instead of each showing up as a trace of its own.
        app.Use((context, next) =>
        {
            if (IsHealthRequest(context.Request.Path) && System.Diagnostics.Activity.Current is { } probe)
            {
                probe.ActivityTraceFlags &= ~System.Diagnostics.ActivityTraceFlags.Recorded;
                probe.IsAllDataRequested = false;
            }
            return next(context);
        });

        // Readiness: every check (database, redis, schema). Liveness: only the process itself. Unlike the
        // template, both are mapped in every environment: the AppHost and operators probe production too,
        // and the answer is the status word only.
        app.MapHealthChecks(HealthPath).DisableHttpMetrics();
        app.MapHealthChecks(AlivePath, new HealthCheckOptions { Predicate = r => r.Tags.Contains(LiveTag) }).DisableHttpMetrics();
        return app;
    }

    private static bool IsHealthRequest(PathString path) =>
        path.StartsWithSegments(HealthPath) || path.StartsWithSegments(AlivePath);

    /// <summary>
    /// Drops client spans that have no parent: a PostgreSQL statement or Redis command outside any request or job
    /// is background polling or a heartbeat (job claims, the stream nodes' position checks and connection counts),
    /// and would start a trace of its own every few hundred milliseconds.
    /// </summary>
    private sealed class BackgroundClientSpanSampler(Sampler inner) : Sampler
    {
        public override SamplingResult ShouldSample(in SamplingParameters parameters) =>
            parameters.Kind == System.Diagnostics.ActivityKind.Client && parameters.ParentContext.TraceId == default
                ? new SamplingResult(SamplingDecision.Drop)
                : inner.ShouldSample(parameters);
    }
}
