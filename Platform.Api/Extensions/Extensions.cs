using Platform.Api.Security;
using Platform.Core.Data;

namespace Microsoft.Extensions.DependencyInjection;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddPlatformDb();
        builder.AddPlatformRedis();
        builder.AddPlatformSecurity();
        builder.AddJobQueue();

        // Api owns the schema: it applies the migrations before it starts listening.
        builder.Services.AddHostedService<MigrationHostedService>();

        builder.Services.AddOpenApi();
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

/// <summary>Applies the embedded SQL migrations at start-up, retrying while PostgreSQL is still coming up.</summary>
internal sealed partial class MigrationHostedService(MigrationRunner runner, ILogger<MigrationHostedService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(250);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await runner.ApplyAsync(cancellationToken);
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
