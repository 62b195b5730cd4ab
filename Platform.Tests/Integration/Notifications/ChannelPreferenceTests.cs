using System.Text.Json;
using Platform.Core.Notifications;

namespace Platform.Tests.Integration.Notifications;

public sealed class ChannelPreferenceTests(NotificationsFixture fx) : IClassFixture<NotificationsFixture>
{
    [Fact]
    public async Task A_tenant_default_turns_a_channel_off_and_a_persons_choice_for_one_type_turns_it_back_on()
    {
        var tenant = await fx.CreateTenantAsync("channel-prefs");
        var defaults = await fx.Client(tenant.ApiKey).PatchAsync("/v1/notification-defaults",
            NotificationsFixture.Body("""{"preferences":[{"type":"*","channel":"in_app","enabled":false}]}"""));
        Assert.Equal(HttpStatusCode.OK, defaults.StatusCode);
        var (token, _) = await fx.UserTokenAsync(tenant.ApiKey, "erin");
        var mine = await fx.Client(token).PatchAsync("/v1/me/notification-channels",
            NotificationsFixture.Body("""{"preferences":[{"type":"civic.agenda","channel":"in_app","enabled":true}]}"""));
        Assert.Equal(HttpStatusCode.OK, mine.StatusCode);

        var off = await fx.ProduceAsync(tenant.Id, "erin", "meeting-1", "civic.meeting-summary", NotificationChannels.InApp);
        var on = await fx.ProduceAsync(tenant.Id, "erin", "meeting-1", "civic.agenda", NotificationChannels.InApp);
        var suppressed = await fx.WaitForDeliveriesAsync(off.OutboxId, d => d.Count == 1 && d[0].State != DeliveryStates.Pending, "the delivery ends");
        Assert.Equal((DeliveryStates.Suppressed, SuppressionReasons.ChannelDisabled), (suppressed[0].State, suppressed[0].Reason));
        await fx.WaitForDeliveriesAsync(on.OutboxId, d => d.Count == 1 && d[0].State == DeliveryStates.Sent, "the chosen type is sent");

        var inbox = await NotificationsFixture.Json(await fx.Client(token).GetAsync("/v1/me/notifications"));
        Assert.Equal([on.OutboxId], inbox.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetInt64()));

        // Removing the person's choice falls back to the tenant default.
        await fx.Client(token).PatchAsync("/v1/me/notification-channels",
            NotificationsFixture.Body("""{"preferences":[{"type":"civic.agenda","channel":"in_app","enabled":null}]}"""));
        var later = await fx.ProduceAsync(tenant.Id, "erin", "meeting-2", "civic.agenda", NotificationChannels.InApp);
        var fallback = await fx.WaitForDeliveriesAsync(later.OutboxId, d => d.Count == 1 && d[0].State != DeliveryStates.Pending, "the delivery ends");
        Assert.Equal(SuppressionReasons.ChannelDisabled, fallback[0].Reason);
    }

    [Fact]
    public async Task Choices_round_trip_and_a_request_with_one_bad_entry_is_a_problem_that_stores_nothing()
    {
        var tenant = await fx.CreateTenantAsync("channel-prefs-api");
        var (token, _) = await fx.UserTokenAsync(tenant.ApiKey, "fay");
        var client = fx.Client(token);
        var ok = await client.PatchAsync("/v1/me/notification-channels", NotificationsFixture.Body(
            """{"preferences":[{"type":"civic.meeting-summary","channel":"email","enabled":false},{"type":"*","channel":"web_push","enabled":true}]}"""));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);

        foreach (var (bad, field) in new[]
                 {
                     ("""{"preferences":[{"type":"a.b","channel":"email","enabled":true},{"type":"a.b","channel":"fax","enabled":true}]}""", "preferences[1].channel"),
                     ("""{"preferences":[{"type":"Bad Type","channel":"email","enabled":true}]}""", "preferences[0].type"),
                     ("""{"preferences":[{"type":"a.b","channel":"email"}]}""", "preferences[0].enabled"),
                     ("""{"preferences":[{"type":"a.b","channel":"email","enabled":"no"}]}""", "preferences[0].enabled"),
                     ("""{"preferences":[{"type":"a.b","channel":"email","enabled":true},{"type":"a.b","channel":"email","enabled":false}]}""", "preferences[1]"),
                     ("""{"preferences":[]}""", "preferences"),
                     ("""{"prefs":[]}""", "prefs"),
                 })
        {
            var response = await client.PatchAsync("/v1/me/notification-channels", NotificationsFixture.Body(bad));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains(field, (await NotificationsFixture.Json(response)).GetProperty("errors").EnumerateObject().Select(p => p.Name));
        }

        var view = await NotificationsFixture.Json(await client.GetAsync("/v1/me/notification-channels"));
        Assert.Equal(["in_app", "web_push", "email", "webhook"], view.GetProperty("channels").EnumerateArray().Select(c => c.GetString()));
        var stored = view.GetProperty("preferences").EnumerateArray()
            .Select(p => (p.GetProperty("type").GetString(), p.GetProperty("channel").GetString(), p.GetProperty("enabled").GetBoolean())).ToList();
        Assert.Equal([("*", "web_push", true), ("civic.meeting-summary", "email", false)], stored);

        // A tenant key manages defaults, a user token cannot; a tenant key has no "me".
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/v1/notification-defaults")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await fx.Client(tenant.ApiKey).GetAsync("/v1/me/notification-channels")).StatusCode);
        var badDefault = await fx.Client(tenant.ApiKey).PatchAsync("/v1/notification-defaults",
            NotificationsFixture.Body("""{"preferences":[{"type":"*","channel":"carrier-pigeon","enabled":false}]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, badDefault.StatusCode);
        var tenantView = await NotificationsFixture.Json(await fx.Client(tenant.ApiKey).GetAsync("/v1/notification-defaults"));
        Assert.Equal(JsonValueKind.Array, tenantView.GetProperty("defaults").ValueKind);
        Assert.Equal(0, tenantView.GetProperty("defaults").GetArrayLength());
    }
}
