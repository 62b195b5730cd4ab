extern alias ApiHost;
extern alias RealtimeHost;
extern alias WorkerHost;
extern alias AdminHost;

using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Platform.Tests.Infrastructure;

/// <summary>Settings every service gets in tests: the same keys the AppHost passes to each service (docs/architecture.md, configuration).</summary>
public static class TestSettings
{
    public const string OperatorKey = "op_test_0123456789abcdef0123456789abcdef0123456789abcdef";
    public const string JwtSigningKey = "test-signing-key-0123456789abcdef0123456789abcdef";

    /// <param name="database">The owner's connection (migrations); services get the same database as the service role.</param>
    public static Dictionary<string, string?> For(string database, string redis) => new()
    {
        ["ConnectionStrings:platformdb"] = TestEnvironment.AsService(database),
        ["ConnectionStrings:platformdb-owner"] = database,
        ["ConnectionStrings:redis"] = redis,
        ["Platform:OperatorKey"] = OperatorKey,
        ["Platform:Jwt:SigningKey"] = JwtSigningKey,
        // The vault key: personal data and webhook signing secrets are sealed with it.
        ["Platform:Impact:MasterKey"] = VaultKey,
    };

    public static readonly string VaultKey = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData("test-vault-key"u8));
}

/// <summary>Hosts one service in-process with the given settings (overriding appsettings and environment).</summary>
public class ServiceFactory<TEntryPoint>(IDictionary<string, string?> settings) : WebApplicationFactory<TEntryPoint>
    where TEntryPoint : class
{
    public IDictionary<string, string?> Settings { get; } = settings;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }
    }
}

public sealed class ApiFactory(IDictionary<string, string?> settings) : ServiceFactory<ApiHost::Program>(settings);

public sealed class RealtimeFactory(IDictionary<string, string?> settings) : ServiceFactory<RealtimeHost::Program>(settings);

public sealed class WorkerFactory(IDictionary<string, string?> settings) : ServiceFactory<WorkerHost::Program>(settings);

public sealed class AdminFactory(IDictionary<string, string?> settings) : ServiceFactory<AdminHost::Program>(settings);

/// <summary>A fresh database per test class plus an in-process Api on it.</summary>
public class ApiFixture : IAsyncLifetime
{
    public string Database { get; private set; } = "";
    public string Redis { get; private set; } = "";
    public ApiFactory Api { get; private set; } = null!;

    /// <summary>True: every service of the fixture uses a Redis of its own (<see cref="OwnRedis"/>), which tests may stop and start.</summary>
    protected virtual bool OwnsRedis => false;

    public LocalRedis OwnRedis => _ownRedis ?? throw new InvalidOperationException("this fixture uses the suite's shared Redis");
    private LocalRedis? _ownRedis;

    protected virtual void Configure(Dictionary<string, string?> settings)
    {
    }

    public virtual async Task InitializeAsync()
    {
        Database = await TestEnvironment.CreateDatabaseAsync(GetType().Name);
        if (OwnsRedis)
        {
            _ownRedis = await LocalRedis.StartAsync();
        }
        Redis = _ownRedis?.ConnectionString ?? await TestEnvironment.RedisAsync();
        var settings = TestSettings.For(Database, Redis);
        Configure(settings);
        Api = new ApiFactory(settings);
        _ = Api.Server; // start now, so failures surface in the fixture
    }

    public virtual async Task DisposeAsync()
    {
        await Api.DisposeAsync();
        if (_ownRedis is not null)
        {
            await _ownRedis.DisposeAsync();
        }
    }
}
