using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Platform.Core.Security;
using Platform.Core.Tenancy;

namespace Platform.Tests.Integration.Conversations;

/// <summary>Tenancy through EF Core: every context is opened for one tenant, and the filter keeps the others out.</summary>
public sealed class TenancyStoreTests : IAsyncLifetime
{
    private IHost _host = null!;
    private string _database = "";

    public async Task InitializeAsync()
    {
        _database = await TestEnvironment.CreateDatabaseAsync("tenancy");
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(TestSettings.For(_database, await TestEnvironment.RedisAsync()));
        builder.AddPlatformDb();
        builder.AddPlatformRedis();
        builder.Services.AddSingleton<Revocations>();
        builder.Services.AddSingleton<Tenants>();
        builder.Services.AddSingleton<Channels>();
        _host = builder.Build();
    }

    public Task DisposeAsync()
    {
        _host.Dispose();
        return Task.CompletedTask;
    }

    private Tenants Tenants => _host.Services.GetRequiredService<Tenants>();
    private Channels Channels => _host.Services.GetRequiredService<Channels>();

    [Fact]
    public async Task A_tenant_never_reads_renames_rotates_or_lists_another_tenants_channel()
    {
        var (a, _) = await Tenants.CreateAsync("a");
        var (b, _) = await Tenants.CreateAsync("b");
        var (ofB, secretOfB) = await Channels.CreateAsync(b.Id, "b's channel");

        Assert.Null(await Channels.FindAsync(a.Id, ofB.Id));
        Assert.Null(await Channels.UpdateAsync(a.Id, ofB.Id, "taken", ActivationStatus.Inactive));
        Assert.Null(await Channels.RotateSecretAsync(a.Id, ofB.Id));
        Assert.Empty(await Channels.ListAsync(a.Id, 100, after: null));
        Assert.Empty(await Channels.ListAsync(a.Id, 100, after: ofB.Id));

        // B's channel is as it was: same name, still active, and its secret is the one B was given.
        var unchanged = await Channels.FindAsync(b.Id, ofB.Id);
        Assert.Equal(("b's channel", ActivationStatus.Active), (unchanged!.Name, unchanged.Status));
        await using var conn = new NpgsqlConnection(_database);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT secret_hash FROM core.channels WHERE id = $1", conn);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = ofB.Id });
        Assert.Equal(Platform.Core.Security.Credentials.Hash(secretOfB), await cmd.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Keys_are_revoked_only_by_their_own_tenant_and_lists_page_in_creation_order()
    {
        var (a, keyOfA) = await Tenants.CreateAsync("a");
        var (b, _) = await Tenants.CreateAsync("b");
        Assert.False(await Tenants.RevokeApiKeyAsync(b.Id, keyOfA.Id));
        Assert.True(await Tenants.RevokeApiKeyAsync(a.Id, keyOfA.Id));
        Assert.Null(await Tenants.IssueApiKeyAsync(Guid.CreateVersion7()));

        var created = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            created.Add((await Channels.CreateAsync(a.Id, $"c{i}")).Channel.Id);
        }
        var first = await Channels.ListAsync(a.Id, 2, after: null);
        var rest = await Channels.ListAsync(a.Id, 10, after: first[^1].Id);
        Assert.Equal(created, [.. first.Select(c => c.Id), .. rest.Select(c => c.Id)]);

        var renamed = await Tenants.UpdateAsync(a.Id, name: "a2", status: null);
        Assert.Equal(("a2", ActivationStatus.Active), (renamed!.Name, renamed.Status));
        Assert.True(renamed.UpdatedAt >= renamed.CreatedAt);
    }
}
