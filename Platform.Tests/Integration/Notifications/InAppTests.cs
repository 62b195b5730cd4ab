using Platform.Core.Notifications;

namespace Platform.Tests.Integration.Notifications;

public sealed class InAppTests(NotificationsFixture fx) : IClassFixture<NotificationsFixture>
{
    [Fact]
    public async Task A_connected_user_receives_the_notification_on_every_connection()
    {
        var tenant = await fx.CreateTenantAsync("inapp-live");
        var (token, streamUrl) = await fx.UserTokenAsync(tenant.ApiKey, "eve", "member");
        // Two tabs on two different nodes: both get it through the Redis backplane.
        var other = new UriBuilder(streamUrl) { Port = streamUrl.Port == fx.NodeUri(0).Port ? fx.NodeUri(1).Port : fx.NodeUri(0).Port }.Uri;
        await using var a = await NotificationStreamClient.ConnectAsync(streamUrl);
        await using var b = await NotificationStreamClient.ConnectAsync(other);

        var n = await fx.ProduceAsync(tenant.Id, "eve", "spread-1", "community.champion", NotificationChannels.InApp);
        await a.WaitForAsync(n.OutboxId);
        await b.WaitForAsync(n.OutboxId);

        var inbox = await NotificationsFixture.Json(await fx.Client(token).GetAsync("/v1/me/notifications"));
        var item = Assert.Single(inbox.GetProperty("items").EnumerateArray());
        Assert.Equal("community.champion", item.GetProperty("type").GetString());
        Assert.Equal("spread-1", item.GetProperty("payload").GetProperty("title").GetString());
    }

    [Fact]
    public async Task A_reconnecting_user_gets_unread_notifications_once()
    {
        var tenant = await fx.CreateTenantAsync("inapp-replay");
        var (token, streamUrl) = await fx.UserTokenAsync(tenant.ApiKey, "frank");
        var first = await fx.ProduceAsync(tenant.Id, "frank", "s1", "civic.alert", NotificationChannels.InApp);
        var second = await fx.ProduceAsync(tenant.Id, "frank", "s2", "civic.alert", NotificationChannels.InApp);
        await fx.WaitForDeliveriesAsync(second.OutboxId, d => d.Count == 1 && d.All(x => x.State == DeliveryStates.Sent), "delivered to the inbox");
        await fx.WaitForDeliveriesAsync(first.OutboxId, d => d.Count == 1 && d.All(x => x.State == DeliveryStates.Sent), "delivered to the inbox");

        var stored = await Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<NotificationInbox>(fx.Api.Services)
            .UnreadAsync(tenant.Id, "frank", 10);
        Assert.Equal([first.OutboxId, second.OutboxId], stored.Select(x => x.Id));
        await using (var stream = await NotificationStreamClient.ConnectAsync(streamUrl))
        {
            Assert.Equal([first.OutboxId, second.OutboxId], stream.Frames[0]);
            // Live after the replay: a new one arrives once, the replayed ones are not repeated.
            var third = await fx.ProduceAsync(tenant.Id, "frank", "s3", "civic.alert", NotificationChannels.InApp);
            await stream.WaitForAsync(third.OutboxId);
            Assert.Equal([first.OutboxId, second.OutboxId, third.OutboxId], stream.Ids);
        }

        Assert.Equal(HttpStatusCode.NoContent, (await fx.Client(token).PostAsync($"/v1/me/notifications/{first.OutboxId}/read", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await fx.Client(token).PostAsync("/v1/me/notifications/999999999/read", null)).StatusCode);

        await using var again = await NotificationStreamClient.ConnectAsync(streamUrl);
        Assert.DoesNotContain(first.OutboxId, again.Frames[0]);
        Assert.Equal(again.Frames[0].Distinct().Count(), again.Frames[0].Count);
        Assert.Contains(second.OutboxId, again.Frames[0]);
    }

    [Fact]
    public async Task Another_users_notifications_never_reach_the_stream()
    {
        var tenant = await fx.CreateTenantAsync("inapp-isolation");
        var (_, streamUrl) = await fx.UserTokenAsync(tenant.ApiKey, "gina");
        await using var stream = await NotificationStreamClient.ConnectAsync(streamUrl);
        var hers = await fx.ProduceAsync(tenant.Id, "gina", "x", "civic.alert", NotificationChannels.InApp);
        var his = await fx.ProduceAsync(tenant.Id, "hal", "x", "civic.alert", NotificationChannels.InApp);
        await fx.WaitForDeliveriesAsync(his.OutboxId, d => d.Count == 1 && d.All(x => x.State == DeliveryStates.Sent), "his is delivered");
        await stream.WaitForAsync(hers.OutboxId);
        Assert.DoesNotContain(his.OutboxId, stream.Ids);
    }
}
