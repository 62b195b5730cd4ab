var builder = DistributedApplication.CreateBuilder(args);

// Secrets come from configuration (Parameters:*), e.g. `dotnet user-secrets set Parameters:operator-key ...`.
var jwtSigningKey = builder.AddParameter("jwt-signing-key", secret: true);
var operatorKey = builder.AddParameter("operator-key", secret: true);
var adminPassword = builder.AddParameter("admin-password", secret: true);

var postgres = builder.AddPostgres("postgres").WithDataVolume();
var platformdb = postgres.AddDatabase("platformdb");
var redis = builder.AddRedis("redis");

// Api applies the SQL migrations at start-up, so everything that reads the schema waits for it.
var api = builder.AddProject<Projects.Platform_Api>("api")
    .WithReference(platformdb).WaitFor(platformdb)
    .WithReference(redis).WaitFor(redis)
    .WithEnvironment("Platform__OperatorKey", operatorKey)
    .WithEnvironment("Platform__Jwt__SigningKey", jwtSigningKey)
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints();

// Several nodes behind one address; the token endpoint hands out their URLs round-robin.
var realtime = builder.AddProject<Projects.Platform_Realtime>("realtime")
    .WithReplicas(2)
    .WithReference(platformdb).WithReference(redis)
    .WaitFor(api)
    .WithEnvironment("Platform__Jwt__SigningKey", jwtSigningKey)
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints();

api.WithReference(realtime);

var worker = builder.AddProject<Projects.Platform_Worker>("worker")
    .WithReference(platformdb).WithReference(redis)
    .WaitFor(api)
    .WithHttpHealthCheck("/health");

// Admin talks only to api; the other references let its overview probe every service's /health.
builder.AddProject<Projects.Platform_Admin>("admin")
    .WithReference(api).WaitFor(api)
    .WithReference(realtime).WithReference(worker)
    .WithEnvironment("Platform__OperatorKey", operatorKey)
    .WithEnvironment("Admin__Password", adminPassword)
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints();

builder.Build().Run();
