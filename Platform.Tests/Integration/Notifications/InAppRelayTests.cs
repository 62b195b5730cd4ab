using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Platform.Core.Notifications;
using StackExchange.Redis;

namespace Platform.Tests.Integration.Notifications;

/// <summary>Api and two Realtime nodes, no Worker: each test runs the in-app relays it needs (and can "crash" one).</summary>
public sealed class InAppRelayFixture : NotificationsFixture
{
    protected override bool StartsWorker => false;

    public InAppRelay NewRelay(TimeSpan republishAfter) => new(Db, Api.Services.GetRequiredService<IConnectionMultiplexer>(),
        Options.Create(new InAppRelayOptions { PollInterval = TimeSpan.FromMilliseconds(200), RepublishAfter = republishAfter }),
        TimeProvider.System, NullLogger<InAppRelay>.Instance);
}

public sealed class InAppRelayTests(InAppRelayFixture fx) : IClassFixture<InAppRelayFixture>
{
    [Fact]
    public async Task A_notification_committed_while_no_relay_runs_arrives_once_a_relay_starts_and_needs_no_job()
    {
        var tenant = await fx.CreateTenantAsync("relay-catch-up");
        var (_, streamUrl) = await fx.UserTokenAsync(tenant.ApiKey, "ivy");
        await using var stream = await NotificationStreamClient.ConnectAsync(streamUrl);
        var n = await fx.ProduceAsync(tenant.Id, "ivy", "catch-up", "civic.alert", NotificationChannels.InApp);
        // In-app only: no fan-out job is queued, the relay is the whole path.
        Assert.Equal(0, await fx.ScalarAsync("SELECT count(*) FROM ops.job_requests WHERE unique_key = $1", $"notification:{n.OutboxId}"));

        using var relay = fx.NewRelay(TimeSpan.FromSeconds(30));
        await relay.StartAsync(CancellationToken.None);
        try
        {
            await stream.WaitForAsync(n.OutboxId);
            var later = await fx.ProduceAsync(tenant.Id, "ivy", "live", "civic.alert", NotificationChannels.InApp);
            await stream.WaitForAsync(later.OutboxId);
            Assert.Equal([n.OutboxId, later.OutboxId], stream.Ids);
        }
        finally
        {
            await relay.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Nothing_is_lost_and_nothing_repeated_when_a_relay_dies_between_its_commit_and_its_publish()
    {
        var tenant = await fx.CreateTenantAsync("relay-crash");
        var (_, streamUrl) = await fx.UserTokenAsync(tenant.ApiKey, "jack");
        await using var before = await NotificationStreamClient.ConnectAsync(streamUrl);
        var n = await fx.ProduceAsync(tenant.Id, "jack", "crash-1", "civic.alert", NotificationChannels.InApp);

        // The dying relay claims and commits "sent", then never publishes.
        using (var dying = fx.NewRelay(TimeSpan.FromSeconds(1)))
        {
            var claimed = await dying.ClaimAsync(100);
            Assert.Equal([n.OutboxId], claimed.Select(c => c.Notification.Id));
        }
        var (_, state, _, _) = Assert.Single(await fx.DeliveriesAsync(n.OutboxId));
        Assert.Equal(DeliveryStates.Sent, state);
        // A stream that connects now finds it in its unread replay.
        await using var after = await NotificationStreamClient.ConnectAsync(streamUrl);
        Assert.Equal([n.OutboxId], after.Frames[0]);

        // Another relay publishes the stranded row again: the stream that was connected throughout receives it, and
        // the one that already has it does not show it twice.
        using var survivor = fx.NewRelay(TimeSpan.FromSeconds(1));
        await survivor.StartAsync(CancellationToken.None);
        try
        {
            await before.WaitForAsync(n.OutboxId);
            await Eventually.TrueAsync(async () => await fx.ScalarAsync(
                "SELECT count(*) FROM ops.notification_deliveries WHERE outbox_id = $1 AND published_at IS NOT NULL", n.OutboxId) == 1,
                TimeSpan.FromSeconds(20), "the republish is recorded");
            var marker = await fx.ProduceAsync(tenant.Id, "jack", "crash-2", "civic.alert", NotificationChannels.InApp);
            await after.WaitForAsync(marker.OutboxId);
            await before.WaitForAsync(marker.OutboxId);
            Assert.Equal([n.OutboxId, marker.OutboxId], before.Ids);
            Assert.Equal([n.OutboxId, marker.OutboxId], after.Ids);
        }
        finally
        {
            await survivor.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Two_relays_deliver_every_notification_exactly_once()
    {
        var tenant = await fx.CreateTenantAsync("relay-pair");
        var users = Enumerable.Range(0, 4).Select(i => $"user-{i}").ToArray();
        var streams = new List<NotificationStreamClient>();
        foreach (var u in users)
        {
            var (_, url) = await fx.UserTokenAsync(tenant.ApiKey, u);
            streams.Add(await NotificationStreamClient.ConnectAsync(url));
        }
        using var a = fx.NewRelay(TimeSpan.FromSeconds(30));
        using var b = fx.NewRelay(TimeSpan.FromSeconds(30));
        await a.StartAsync(CancellationToken.None);
        await b.StartAsync(CancellationToken.None);
        try
        {
            var produced = await Task.WhenAll(Enumerable.Range(0, 120).Select(async i =>
                (User: i % users.Length, (await fx.ProduceAsync(tenant.Id, users[i % users.Length], $"pair-{i}", "civic.alert", NotificationChannels.InApp)).OutboxId)));
            for (var u = 0; u < users.Length; u++)
            {
                var expected = produced.Where(p => p.User == u).Select(p => p.OutboxId).Order().ToArray();
                var stream = streams[u];
                await Eventually.TrueAsync(() => Task.FromResult(expected.All(stream.Ids.Contains)), TimeSpan.FromSeconds(20), $"{users[u]} receives all of theirs");
                Assert.Equal(expected, stream.Ids.Order().ToArray());
            }
            // Claimed once each: one attempt per delivery, whichever relay took it.
            Assert.Equal(120, await fx.ScalarAsync(
                "SELECT count(*) FROM ops.notification_attempts a JOIN ops.notification_deliveries d ON d.id = a.delivery_id WHERE d.tenant_id = $1",
                tenant.Id));
        }
        finally
        {
            await a.StopAsync(CancellationToken.None);
            await b.StopAsync(CancellationToken.None);
            foreach (var s in streams)
            {
                await s.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_type_with_in_app_turned_off_is_not_delivered_in_app()
    {
        var tenant = await fx.CreateTenantAsync("relay-prefs");
        var (token, streamUrl) = await fx.UserTokenAsync(tenant.ApiKey, "kim");
        var off = await fx.Client(token).PatchAsync("/v1/me/notification-channels",
            NotificationsFixture.Body("""{"preferences":[{"type":"civic.alert","channel":"in_app","enabled":false}]}"""));
        Assert.Equal(HttpStatusCode.OK, off.StatusCode);
        await using var stream = await NotificationStreamClient.ConnectAsync(streamUrl);
        using var relay = fx.NewRelay(TimeSpan.FromSeconds(30));
        await relay.StartAsync(CancellationToken.None);
        try
        {
            var muted = await fx.ProduceAsync(tenant.Id, "kim", "m-1", "civic.alert", NotificationChannels.InApp);
            var wanted = await fx.ProduceAsync(tenant.Id, "kim", "m-1", "community.champion", NotificationChannels.InApp);
            await stream.WaitForAsync(wanted.OutboxId);
            Assert.Equal([wanted.OutboxId], stream.Ids);
            var delivery = Assert.Single(await fx.DeliveriesAsync(muted.OutboxId));
            Assert.Equal((DeliveryStates.Suppressed, SuppressionReasons.ChannelDisabled), (delivery.State, delivery.Reason));
            var inbox = await NotificationsFixture.Json(await fx.Client(token).GetAsync("/v1/me/notifications"));
            Assert.Equal([wanted.OutboxId], inbox.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetInt64()));
        }
        finally
        {
            await relay.StopAsync(CancellationToken.None);
        }
    }
}
