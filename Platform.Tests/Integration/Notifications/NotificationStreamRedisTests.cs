using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Notifications;
using Platform.Tests.Infrastructure;

namespace Platform.Tests.Integration.Notifications;

/// <summary>Api and two Realtime nodes on a Redis of their own, which the tests stop and start; no Worker (each test runs its relay).</summary>
public sealed class NotificationRedisFixture : NotificationsFixture
{
    protected override bool OwnsRedis => true;

    protected override bool StartsWorker => false;

    /// <summary>A relay that never publishes a stranded row again within a test, so only the stream's own catch-up can deliver it.</summary>
    public InAppRelay NewRelay(Security.CapturingLoggerProvider? logs = null) => new(Db, Api.Services.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>(),
        Microsoft.Extensions.Options.Options.Create(new InAppRelayOptions { PollInterval = TimeSpan.FromMilliseconds(200), RepublishAfter = TimeSpan.FromMinutes(10) }),
        TimeProvider.System, new Microsoft.Extensions.Logging.Logger<InAppRelay>(new Microsoft.Extensions.Logging.LoggerFactory(logs is null ? [] : [logs])));

    /// <summary>Redis is back and the relay's connection (Api's) has noticed: a publish from now on reaches the nodes that listen.</summary>
    public async Task StartRedisAgainAsync()
    {
        await OwnRedis.StartAgainAsync();
        var redis = Api.Services.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>();
        await Eventually.TrueAsync(() => Task.FromResult(redis.IsConnected), TimeSpan.FromSeconds(30), "the relay's Redis connection is back");
    }
}

public sealed class NotificationStreamRedisTests(NotificationRedisFixture fx) : IClassFixture<NotificationRedisFixture>
{
    [Fact]
    public async Task A_user_stream_opened_while_redis_is_down_goes_live_once_redis_returns()
    {
        var tenant = await fx.CreateTenantAsync("user-stream-outage");
        var (_, streamUrl) = await fx.UserTokenAsync(tenant.ApiKey, "lena");
        await fx.OwnRedis.StopAsync();
        NotificationStreamClient stream;
        try
        {
            // The node cannot subscribe now; the client still gets its (empty) unread replay from PostgreSQL.
            stream = await NotificationStreamClient.ConnectAsync(streamUrl);
        }
        finally
        {
            await fx.StartRedisAgainAsync();
        }
        await using var _ = stream;

        using var relay = fx.NewRelay();
        await relay.StartAsync(CancellationToken.None);
        try
        {
            var n = await fx.ProduceAsync(tenant.Id, "lena", "after the outage", "civic.alert", NotificationChannels.InApp);
            await stream.WaitForAsync(n.OutboxId);
            Assert.Equal([n.OutboxId], stream.Ids);
        }
        finally
        {
            await relay.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_notification_published_while_redis_is_down_reaches_the_connected_stream_once()
    {
        var tenant = await fx.CreateTenantAsync("user-stream-missed");
        var (_, streamUrl) = await fx.UserTokenAsync(tenant.ApiKey, "omar");
        await using var stream = await NotificationStreamClient.ConnectAsync(streamUrl);

        var logs = new Security.CapturingLoggerProvider();
        using var relay = fx.NewRelay(logs);
        await relay.StartAsync(CancellationToken.None);
        try
        {
            await fx.OwnRedis.StopAsync();
            long missed;
            try
            {
                missed = (await fx.ProduceAsync(tenant.Id, "omar", "during the outage", "civic.alert", NotificationChannels.InApp)).OutboxId;
                // The relay claims it and its publish fails for good (it is not republished within the test): the
                // connected stream must get it once Redis returns, from PostgreSQL.
                await Eventually.TrueAsync(() => Task.FromResult(logs.Lines.Any(l => l.Contains("marked sent but not published"))),
                    TimeSpan.FromSeconds(30), "the relay's publish fails");
            }
            finally
            {
                await fx.StartRedisAgainAsync();
            }
            var later = await fx.ProduceAsync(tenant.Id, "omar", "after the outage", "civic.alert", NotificationChannels.InApp);
            await stream.WaitForAsync(missed);
            await stream.WaitForAsync(later.OutboxId);
            Assert.Equal(2, stream.Ids.Count);
            Assert.Equal([missed, later.OutboxId], stream.Ids.Order());
        }
        finally
        {
            await relay.StopAsync(CancellationToken.None);
        }
    }
}
