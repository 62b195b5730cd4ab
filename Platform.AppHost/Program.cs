using Microsoft.Extensions.Configuration;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Platform.AppHost;
using Platform.AppHost.Infrastructure;

var builder = DistributedApplication.CreateBuilder(args);

var ports = PlatformPorts.From(builder.Configuration);
// Everything a run keeps (database files, the env file) lives in the git-ignored .platform/ beside the sources.
var state = builder.Configuration["Platform:StateDirectory"] is { Length: > 0 } s
    ? Path.GetFullPath(s)
    : Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", ".platform"));

// PostgreSQL and Redis: containers where a container runtime answers, else the machine's own binaries.
var infrastructure = builder.AddPlatformInfrastructure(ports, Path.Combine(state, "data"));
var platformdb = infrastructure.Database;
var redis = infrastructure.Redis;
// The services connect as their own login (platform_service: no superuser, no row-level-security bypass, no DDL); only
// Api's start-up setup uses the owner (the server's superuser here), as ConnectionStrings:platformdb-owner, and it
// creates that login with this password. A later key in an Npgsql connection string overrides an earlier one.
var servicePassword = builder.AddParameter("platformdb-service-password", PlatformInfrastructure.Secret(32), secret: true, persist: true);
var serviceDb = builder.AddConnectionString("platformdb-service",
    ReferenceExpression.Create($"{platformdb.Resource};Username=platform_service;Password={servicePassword}"));

// Secrets are generated on first run and kept in the AppHost's user secrets, never in the repository.
var operatorKey = ReferenceExpression.Create($"op_{builder.AddParameter("operator-key", PlatformInfrastructure.Secret(43), secret: true, persist: true)}");
var tokenSigningKey = builder.AddTokenSigningKey();
var adminPassword = builder.AddParameter("admin-password", PlatformInfrastructure.Secret(20), secret: true, persist: true);
// Wraps the per-person keys of impact PII: losing it makes that data unreadable, so it is persisted like the rest.
var impactMasterKey = builder.AddParameter("impact-master-key", PlatformInfrastructure.Secret(44), secret: true, persist: true);

// Api sets the database up at start-up (migrations, job storage, the services' login), so everything else waits for it.
var api = builder.AddPlatformService<Projects.Platform_Api>("api", ports.Api)
    .WithReference(serviceDb, "platformdb").WithReference(platformdb, "platformdb-owner").WaitFor(platformdb)
    .WithReference(redis).WaitFor(redis)
    .WithEnvironment("Platform__OperatorKey", operatorKey)
    .WithTokenSigningKey(tokenSigningKey)
    .WithEnvironment("Platform__Impact__MasterKey", impactMasterKey);

// Realtime nodes, each at its own address: the Api hands their URLs out round-robin and a client resumes on another.
var realtime = ports.Realtime.Select((port, i) => builder.AddPlatformService<Projects.Platform_Realtime>($"realtime-{i}", port)
        .WithReference(serviceDb, "platformdb").WithReference(redis).WaitFor(api)
        .WithTokenValidationKey(tokenSigningKey))
    .ToArray();
api.WithServiceEndpoints("realtime", realtime);

var worker = builder.AddPlatformService<Projects.Platform_Worker>("worker", ports.Worker)
    .WithReference(serviceDb, "platformdb").WithReference(redis).WaitFor(api)
    .WithEnvironment("Platform__Impact__MasterKey", impactMasterKey);

// Admin talks only to api; the other addresses let its overview show every service's health.
var admin = builder.AddPlatformService<Projects.Platform_Admin>("admin", ports.Admin)
    .WithReference(api).WaitFor(api)
    .WithReference(worker)
    .WithServiceEndpoints("realtime", realtime)
    .WithEnvironment("Platform__OperatorKey", operatorKey)
    // The panel gets only a PBKDF2 hash of the password, never the password itself.
    .WithEnvironment(async context => context.EnvironmentVariables["Admin__PasswordHash"] =
        AdminPasswordHashing.Hash(await adminPassword.Resource.GetValueAsync(context.CancellationToken) ?? ""));
// The panel links to the Aspire dashboard (traces, metrics, console logs) at the address the AppHost serves it on.
if ((builder.Configuration["ASPNETCORE_URLS"] ?? "").Split(';')[0] is { Length: > 0 } dashboardUrl)
{
    admin.WithEnvironment("Admin__DashboardUrl", dashboardUrl.Replace("localhost", "127.0.0.1", StringComparison.Ordinal));
}

builder.AddSeeds(api, worker, operatorKey, state);

builder.Services.AddSingleton(new SystemReadyReport.Settings(
    EnvironmentFile: builder.Configuration.GetValue("Platform:WriteEnvironmentFile", true) ? Path.Combine(state, "env") : null,
    WaitFor: [api.Resource, .. realtime.Select(r => r.Resource), worker.Resource, admin.Resource],
    Api: api.Resource, Realtime: [.. realtime.Select(r => r.Resource)], Worker: worker.Resource, Admin: admin.Resource,
    Database: platformdb.Resource, Redis: redis.Resource, OperatorKey: operatorKey, AdminPassword: adminPassword.Resource));
builder.Services.AddHostedService<SystemReadyReport>();

builder.Build().Run();
