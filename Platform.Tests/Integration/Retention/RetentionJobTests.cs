using Npgsql;
using Platform.Core.Retention;
using Platform.Tests.Integration.Impact;

namespace Platform.Tests.Integration.Retention;

/// <summary>The real Worker declares the retention schedule; its job, run through Hangfire, applies a tenant's keep period and writes the ledger.</summary>
public sealed class RetentionJobTests(ImpactFixture fx) : IClassFixture<ImpactFixture>
{
    [Fact]
    public async Task The_scheduled_sweep_runs_as_a_job_and_removes_what_is_past_the_tenants_horizon()
    {
        var tenant = await fx.CreateTenantAsync("retention-job");
        await using (var conn = new NpgsqlConnection(fx.Database))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("""
                INSERT INTO community.signals (tenant_id, kind, actor_id, occurred_at)
                VALUES ($1, 'message', 'old', now() - interval '20 days'), ($1, 'message', 'new', now())
                """, conn);
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenant.Id });
            await cmd.ExecuteNonQueryAsync();
        }
        var op = fx.Client(TestSettings.OperatorKey);
        Assert.Equal(HttpStatusCode.OK, (await op.PutAsJsonAsync($"/v1/admin/tenants/{tenant.Id}/retention/community_signals", new { keepDays = 7 })).StatusCode);

        // The Worker declares its schedules in the background after start: trigger once Hangfire knows this one.
        await Eventually.ReturnsAsync(() => op.PostAsync($"/v1/admin/schedules/{RetentionExtensions.Schedule}/trigger", null),
            r => r.StatusCode == HttpStatusCode.Accepted, TimeSpan.FromSeconds(60), "the retention schedule is declared and triggered");

        await Eventually.ReturnsAsync(() => fx.CountAsync("SELECT count(*) FROM governance.retention_runs WHERE tenant_id = $1", tenant.Id),
            n => n == 1, TimeSpan.FromSeconds(60), "the sweep job wrote its ledger row");
        Assert.Equal(1, await fx.CountAsync("SELECT count(*) FROM community.signals WHERE tenant_id = $1", tenant.Id));
        Assert.Equal(1, await fx.CountAsync("SELECT count(*) FROM community.signals WHERE tenant_id = $1 AND actor_id = 'new'", tenant.Id));
    }
}
