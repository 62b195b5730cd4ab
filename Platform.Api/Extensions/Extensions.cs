using Platform.Api.Apis;
using Platform.Api.Security;
using Platform.Core.Civic;
using Platform.Core.Community;
using Platform.Core.Data;
using Platform.Core.DirectLine;
using Platform.Core.Events;
using Platform.Core.Impact;
using Platform.Core.Messaging;
using Platform.Core.Notifications;
using Platform.Core.Privacy;
using Platform.Core.Retention;
using Platform.Core.Tenancy;

namespace Microsoft.Extensions.DependencyInjection;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        // What one Api process takes on at most: a bounded pool with a short wait, a global concurrency limit; beyond
        // them 503 + Retry-After (Platform:Overload; docs/operations.md, overload protection).
        var overload = OverloadOptions.From(builder.Configuration);
        builder.Services.AddSingleton(overload);
        builder.Services.AddExceptionHandler<DatabaseUnavailableHandler>();
        builder.AddPlatformDb(overload.Apply);
        builder.AddPlatformRedis();
        builder.AddPlatformSecurity();
        Platform.Api.Identity.IdentitySetup.AddPlatformIdentity(builder);
        builder.Services.AddSingleton<Platform.Api.Identity.IdentityPagesRenderer>();
        builder.AddJobQueue();

        // Api sets the schema up (as the owner) before it starts listening; the services themselves never run DDL.
        builder.Services.AddHostedService<MigrationHostedService>();

        builder.AddConversationServices(overload);
        // The modules: each registers its services (and job handlers and schedules, which only the Worker runs).
        builder.AddCivic();
        builder.AddCommunity();
        builder.Services.AddSingleton<CommunityAccess.Filter>();
        builder.AddEvents();
        Platform.Core.Ai.ModelClients.AddSharedChatClient(builder.Services, builder.Configuration);
        builder.AddNotifications();
        builder.AddImpact();
        builder.AddDirectLine();
        builder.AddRetention();
        builder.AddPrivacy();
        builder.Services.AddSingleton<Platform.Core.Search.SiteSearch>();

        builder.Services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
        {
            // One bearer scheme for every credential kind; each operation's summary and docs/api.md say which it accepts.
            document.Info.Title = "Platform API";
            document.Info.Description = "Tenancy, credentials and conversations. Errors are RFC 9457 problem details. See docs/api.md.";
            document.Components ??= new Microsoft.OpenApi.OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, Microsoft.OpenApi.IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes["bearer"] = new Microsoft.OpenApi.OpenApiSecurityScheme
            {
                Type = Microsoft.OpenApi.SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "Operator key (op_…), tenant API key (pk_…), channel secret (cs_…) or client token (JWT).",
            };
            document.Security = [new Microsoft.OpenApi.OpenApiSecurityRequirement { [new Microsoft.OpenApi.OpenApiSecuritySchemeReference("bearer", document)] = [] }];
            return Task.CompletedTask;
        }));
    }

    /// <summary>Tenancy, credentials and the conversation API.</summary>
    private static void AddConversationServices(this IHostApplicationBuilder builder, OverloadOptions overload)
    {
        builder.AddTenancy();
        builder.AddMessaging();
        builder.Services.AddSingleton<RealtimeNodes>();

        var limits = new TenantRateLimitOptions();
        builder.Configuration.GetSection("Platform:RateLimits").Bind(limits);
        builder.Services.AddSingleton(limits);
        builder.Services.AddSingleton<TenantRateLimiter>();
        builder.Services.AddRateLimiter(o =>
        {
            // Every request but the health probes takes a place of the process's concurrency limit first.
            o.GlobalLimiter = overload.GlobalLimiter();
            // Per client address, in this process (no Redis, so it holds when Redis is down), before any body is read.
            o.AddPolicy(Platform.Api.Security.AnonymousLimits.PerIp, http => System.Threading.RateLimiting.RateLimitPartition.GetFixedWindowLimiter(
                http.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new System.Threading.RateLimiting.FixedWindowRateLimiterOptions
                {
                    PermitLimit = limits.Enabled ? Math.Max(1, limits.AnonymousPerIpPerMinute) : int.MaxValue,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                }));
            o.OnRejected = async (context, ct) =>
            {
                // The per-address window names when it opens again; the concurrency limiter's refusal names no time.
                if (!context.Lease.TryGetMetadata(System.Threading.RateLimiting.MetadataName.RetryAfter, out _))
                {
                    await overload.WriteUnavailableAsync(context.HttpContext, "The Api is working on as many requests as it takes at once.");
                    return;
                }
                context.HttpContext.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                context.HttpContext.Response.Headers.RetryAfter = "60";
                await context.HttpContext.Response.WriteAsJsonAsync(new Microsoft.AspNetCore.Mvc.ProblemDetails
                {
                    Status = StatusCodes.Status429TooManyRequests,
                    Type = ProblemTypes.RateLimited,
                    Title = "Too many requests from this address.",
                    Detail = "Retry after 60 s.",
                }, (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json", ct);
            };
        });

        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            // Source-generated first: activities serialise the same way here as on the stream.
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, ActivityJsonContext.Default);
            o.SerializerOptions.TypeInfoResolverChain.Insert(1, ApiJsonContext.Default);
            o.SerializerOptions.TypeInfoResolverChain.Insert(2, NotificationsApiJsonContext.Default);
            o.SerializerOptions.TypeInfoResolverChain.Insert(2, NotificationChannelsJsonContext.Default);
            o.SerializerOptions.TypeInfoResolverChain.Insert(2, ImpactJsonContext.Default);
            o.SerializerOptions.TypeInfoResolverChain.Insert(2, Platform.Core.Events.EventsJsonContext.Default);
            o.SerializerOptions.TypeInfoResolverChain.Insert(2, RetentionJsonContext.Default);
        });
    }

    /// <summary>
    /// Per-address limits of anonymous endpoints first (before their bodies are read), then authentication and
    /// authorization; per-tenant rate limits run as endpoint filters after both.
    /// </summary>
    public static WebApplication UsePlatformSecurity(this WebApplication app)
    {
        Platform.Api.Identity.IdentitySetup.UseTenantIssuers(app);
        app.UseQueryTextGuard();
        app.UseRateLimiter();
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }

    public static WebApplication MapApiDocs(this WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json");
        app.UseSwaggerUI(o =>
        {
            o.RoutePrefix = "docs";
            o.SwaggerEndpoint("/openapi/v1.json", "Platform API v1");
            o.DocumentTitle = "Platform API";
        });
        return app;
    }
}

/// <summary>
/// Sets the database up at start-up as the schema owner (<c>ConnectionStrings:platformdb-owner</c>, or
/// <c>platformdb</c> when unset: a deployment that migrates separately, where this finds nothing to do), retrying while
/// PostgreSQL is still coming up: migrations, the job storage's tables and the services' login role; then the webhook
/// signing secrets still stored in plaintext are sealed with the vault key.
/// </summary>
internal sealed partial class MigrationHostedService(IConfiguration configuration,
    Microsoft.Extensions.Options.IOptions<Platform.Core.Jobs.JobWorkerOptions> jobs, Platform.Core.Impact.Privacy.PiiVault vault,
    ILogger<MigrationHostedService> logger) : IHostedService
{
    public const string OwnerConnectionName = "platformdb-owner";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var service = configuration.GetConnectionString(PlatformDataExtensions.DatabaseName)!;
        var ownerString = configuration.GetConnectionString(OwnerConnectionName);
        await using var owner = Npgsql.NpgsqlDataSource.Create(string.IsNullOrWhiteSpace(ownerString) ? service : ownerString);
        var setup = new DatabaseSetup(owner, logger);
        var delay = TimeSpan.FromMilliseconds(250);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (string.IsNullOrWhiteSpace(ownerString))
                {
                    // No owner given: only the migrations (a no-op on a current schema); roles are someone else's.
                    await new MigrationRunner(owner, logger).ApplyAsync(cancellationToken);
                }
                else
                {
                    await setup.RunAsync(service, jobs.Value.Schema, cancellationToken);
                }
                // Webhook secrets stored in plaintext before they were sealed: sealed once the schema has their column.
                await Platform.Core.Notifications.WebhookSecrets.SealStoredAsync(owner, vault, logger, cancellationToken);
                return;
            }
            catch (Npgsql.NpgsqlException ex) when (ex.IsTransient && attempt < 40)
            {
                LogWaiting(logger, attempt, ex.Message);
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 3000));
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Database not reachable yet (attempt {Attempt}): {Reason}")]
    private static partial void LogWaiting(ILogger logger, int attempt, string reason);
}
