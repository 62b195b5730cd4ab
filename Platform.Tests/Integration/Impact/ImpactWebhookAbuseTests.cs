using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Impact;
using Platform.Core.Jobs;

namespace Platform.Tests.Integration.Impact;

/// <summary>
/// The impact webhook receiver takes bodies without a credential: a flood from one address is cut off per address
/// before bodies are read, and what it leaves behind is one counter row, pruned after 30 days.
/// </summary>
public sealed class ImpactWebhookAbuseTests(ImpactFixture fx) : IClassFixture<ImpactFixture>
{
    [Fact]
    public async Task A_flood_of_unsigned_calls_is_limited_per_address_and_leaves_one_counted_row()
    {
        var client = fx.Client();
        var statuses = new List<HttpStatusCode>();
        var tenant = Guid.NewGuid();
        for (var i = 0; i < 130; i++)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/impact/webhooks/buddy") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
            request.Headers.Add("X-Platform-Tenant", tenant.ToString());
            using var response = await client.SendAsync(request);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                Assert.True(response.Headers.RetryAfter is not null);
            }
        }
        Assert.Equal(120, statuses.Count(s => s == HttpStatusCode.Unauthorized));
        Assert.Equal(10, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(1, await fx.CountAsync("SELECT count(*) FROM impact.webhook_rejections WHERE tenant_id = $1", tenant));
        Assert.Equal(120, await fx.CountAsync("SELECT attempts FROM impact.webhook_rejections WHERE tenant_id = $1", tenant));
    }

    [Fact]
    public async Task Rejection_windows_older_than_30_days_are_pruned_by_the_job()
    {
        var old = Guid.NewGuid();
        var recent = Guid.NewGuid();
        await using (var cmd = fx.Db.CreateCommand("""
            INSERT INTO impact.webhook_rejections (tenant_id, source, reason, window_start, last_at, at)
            VALUES ($1, 'buddy', 'signature mismatch', now() - interval '31 days', now() - interval '31 days', now() - interval '31 days'),
                   ($2, 'buddy', 'signature mismatch', date_trunc('hour', now()), now(), now())
            """))
        {
            cmd.Parameters.Add(new Npgsql.NpgsqlParameter<Guid> { TypedValue = old });
            cmd.Parameters.Add(new Npgsql.NpgsqlParameter<Guid> { TypedValue = recent });
            await cmd.ExecuteNonQueryAsync();
        }
        await fx.Api.Services.GetRequiredService<IJobQueue>().EnqueueAsync(new PruneRejectionsArgs(), new JobOptions());
        await Eventually.TrueAsync(async () => await fx.CountAsync("SELECT count(*) FROM impact.webhook_rejections WHERE tenant_id = $1", old) == 0,
            TimeSpan.FromSeconds(30), "the old window is pruned");
        Assert.Equal(1, await fx.CountAsync("SELECT count(*) FROM impact.webhook_rejections WHERE tenant_id = $1", recent));
    }
}
