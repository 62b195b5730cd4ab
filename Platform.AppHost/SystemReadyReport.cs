using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Platform.AppHost;

/// <summary>
/// Once every resource is healthy: prints where everything is (dashboard with its login token, Api, Realtime nodes,
/// Admin, operator key, admin password) and writes the same as <c>.platform/env</c> (owner-only), the file scripts,
/// seeds and benchmarks source.
/// </summary>
internal sealed partial class SystemReadyReport(
    ResourceNotificationService notifications,
    IConfiguration configuration,
    ILogger<SystemReadyReport> logger,
    SystemReadyReport.Settings settings) : BackgroundService
{
    public sealed record Settings(
        string? EnvironmentFile,
        IResource[] WaitFor,
        IResourceWithEndpoints Api,
        IResourceWithEndpoints[] Realtime,
        IResourceWithEndpoints Worker,
        IResourceWithEndpoints Admin,
        IResourceWithConnectionString Database,
        IResourceWithConnectionString Redis,
        ReferenceExpression OperatorKey,
        ParameterResource AdminPassword);

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        try
        {
            foreach (var resource in settings.WaitFor)
            {
                await notifications.WaitForResourceHealthyAsync(resource.Name, ct);
            }
            var env = await ComposeAsync(ct);
            if (!string.IsNullOrEmpty(settings.EnvironmentFile))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(settings.EnvironmentFile)!);
                var temp = settings.EnvironmentFile + ".tmp";
                await File.WriteAllTextAsync(temp, string.Join('\n', env.Select(kv => $"{kv.Key}={Quote(kv.Value)}")) + "\n", ct);
                File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                File.Move(temp, settings.EnvironmentFile, overwrite: true);
            }
            LogReady(logger, env["DASHBOARD_URL"], env["API_URL"], env["REALTIME_URLS"], env["ADMIN_URL"], env["WORKER_URL"],
                env["OPERATOR_KEY"], env["ADMIN_PASSWORD"], settings.EnvironmentFile ?? "(not written)");
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private async Task<SortedDictionary<string, string>> ComposeAsync(CancellationToken ct)
    {
        static string Http(IResourceWithEndpoints r) => r.GetEndpoint("http").Url.Replace("localhost", "127.0.0.1", StringComparison.Ordinal);
        var database = await settings.Database.GetConnectionStringAsync(ct) ?? "";
        var redis = await settings.Redis.GetConnectionStringAsync(ct) ?? "";
        var pg = new Npgsql.NpgsqlConnectionStringBuilder(database);
        var redisOptions = StackExchange.Redis.ConfigurationOptions.Parse(redis);
        var dashboard = (configuration["ASPNETCORE_URLS"] ?? "").Split(';')[0];
        var token = configuration["AppHost:BrowserToken"];
        return new(StringComparer.Ordinal)
        {
            ["API_URL"] = Http(settings.Api),
            ["REALTIME_URLS"] = string.Join(' ', settings.Realtime.Select(r => "ws" + Http(r)[4..])),
            ["ADMIN_URL"] = Http(settings.Admin),
            ["WORKER_URL"] = Http(settings.Worker),
            ["DASHBOARD_URL"] = string.IsNullOrEmpty(token) ? dashboard : $"{dashboard}/login?t={token}",
            ["OPERATOR_KEY"] = await settings.OperatorKey.GetValueAsync(ct) ?? "",
            ["ADMIN_PASSWORD"] = await settings.AdminPassword.GetValueAsync(ct) ?? "",
            ["DATABASE_URL"] = $"postgresql://{pg.Username}:{Uri.EscapeDataString(pg.Password ?? "")}@{pg.Host}:{pg.Port}/{pg.Database}",
            ["REDIS_URL"] = $"redis://:{Uri.EscapeDataString(redisOptions.Password ?? "")}@{redisOptions.EndPoints[0].ToString()!.Replace("Unspecified/", "", StringComparison.Ordinal)}",
            ["ConnectionStrings__platformdb"] = database,
            ["ConnectionStrings__redis"] = redis,
        };
    }

    /// <summary>Single quotes for the shell (<c>set -a; . .platform/env</c>); generated secrets have no quote in them.</summary>
    private static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    [LoggerMessage(Level = LogLevel.Information, Message = """
        Platform is running.
          Dashboard     {Dashboard}
          API           {Api}   (reference: /docs)
          Realtime      {Realtime}
          Admin         {Admin}   (password: {AdminPassword})
          Worker        {Worker}
          Operator key  {OperatorKey}
          Settings      {EnvironmentFile}
        """)]
    private static partial void LogReady(ILogger logger, string dashboard, string api, string realtime, string admin, string worker,
        string operatorKey, string adminPassword, string environmentFile);
}
