using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Platform.Core.Identity;
using Platform.Core.Data;

namespace Platform.Tests.Integration.Identity;

/// <summary>
/// The recurring pruning: revoked sign-ins and used or expired sign-in links go once old enough; a sign-in still in use
/// and an unused link keep working.
/// </summary>
public sealed class IdentityPruningTests(IdentityFixture fx) : IClassFixture<IdentityFixture>
{
    private const string Password = "correct horse battery staple";

    [Fact]
    public async Task Pruning_removes_revoked_sign_ins_and_spent_links_and_keeps_what_still_signs_in()
    {
        var tenant = await fx.CreateTenantAsync("prune-city");
        var clientId = await fx.RegisterClientAsync(tenant.ApiKey);
        var kept = await fx.SignInAsync(fx.Browser(), tenant.Id, clientId, "edna@example.org", Password, register: true);
        var revoked = await fx.SignInAsync(fx.Browser(), tenant.Id, clientId, "edna@example.org", Password, register: false);
        var revoke = await fx.Client().PostAsync($"/t/{tenant.Id}/connect/revoke", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["token"] = revoked.GetProperty("refresh_token").GetString()!, ["token_type_hint"] = "refresh_token", ["client_id"] = clientId,
        }));
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        Assert.Equal(2, await AuthorizationsAsync(tenant.Id));

        // Links: one used, one expired, one fresh and unused.
        var links = fx.Api.Services.GetRequiredService<SignInLinks>();
        string? lastToken = null;
        string Capture(string token) => "https://api.example.org/open?token=" + (lastToken = token);
        var fresh = new SignInLinkPolicy(TimeSpan.FromMinutes(15), 10, TimeSpan.FromMinutes(15));
        await links.RequestAsync(tenant.Id, "edna@example.org", "/", fresh, Capture, "Prune City", default);
        Assert.NotNull(await links.RedeemAsync(tenant.Id, lastToken!, default));
        await links.RequestAsync(tenant.Id, "edna@example.org", "/", fresh with { Lifetime = TimeSpan.FromMilliseconds(1) }, Capture, "Prune City", default);
        await links.RequestAsync(tenant.Id, "edna@example.org", "/", fresh, Capture, "Prune City", default);
        var unused = lastToken!;
        Assert.Equal(3, await ScalarAsync("SELECT count(*) FROM identity.sign_in_links WHERE tenant_id = $1", tenant.Id));

        // Nothing is old enough yet: a run now keeps everything.
        var now = new MovableClock();
        var pruning = new IdentityPruning(fx.Api.Services.GetRequiredService<IServiceScopeFactory>(), fx.Api.Services.GetRequiredService<NpgsqlDataSource>(),
            NullLogger<IdentityPruning>.Instance, now);
        await pruning.PruneAsync(default);
        Assert.Equal(2, await AuthorizationsAsync(tenant.Id));
        Assert.Equal(3, await ScalarAsync("SELECT count(*) FROM identity.sign_in_links WHERE tenant_id = $1", tenant.Id));

        // Past the keep periods: the revoked sign-in and its tokens, the used and the expired link go.
        now.Shift = IdentityPruning.KeepTokensFor + TimeSpan.FromHours(1);
        var pruned = await pruning.PruneAsync(default);
        Assert.True(pruned.Authorizations >= 1 && pruned.Tokens >= 1 && pruned.SignInLinks == 2, pruned.ToString());
        Assert.Equal(1, await AuthorizationsAsync(tenant.Id));
        Assert.Equal(0, await ScalarAsync(
            "SELECT count(*) FROM identity.tokens WHERE tenant_id = $1 AND status = 'revoked'", tenant.Id));
        Assert.Equal(1, await ScalarAsync("SELECT count(*) FROM identity.sign_in_links WHERE tenant_id = $1", tenant.Id));

        // What still signs in still works: the kept sign-in refreshes, the unused link opens.
        var refreshed = await fx.TokenRequestAsync(tenant.Id, new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = kept.GetProperty("refresh_token").GetString()!, ["client_id"] = clientId,
        });
        Assert.True(refreshed.IsSuccessStatusCode, await refreshed.Content.ReadAsStringAsync());
        Assert.NotNull(await links.RedeemAsync(tenant.Id, unused, default));
        // The revoked one stays refused without its row.
        var dead = await fx.TokenRequestAsync(tenant.Id, new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = revoked.GetProperty("refresh_token").GetString()!, ["client_id"] = clientId,
        });
        Assert.Equal(HttpStatusCode.BadRequest, dead.StatusCode);
    }

    private Task<long> AuthorizationsAsync(Guid tenant) => ScalarAsync("SELECT count(*) FROM identity.authorizations WHERE tenant_id = $1", tenant);

    private async Task<long> ScalarAsync(string sql, Guid tenant)
    {
        await using var cmd = await fx.Api.Services.GetRequiredService<NpgsqlDataSource>().CreateTenantCommandAsync(tenant, sql);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenant });
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    /// <summary>The real clock moved forward by <see cref="Shift"/>.</summary>
    private sealed class MovableClock : TimeProvider
    {
        public TimeSpan Shift { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Shift;
    }
}
