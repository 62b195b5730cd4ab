using System.Text.Json;
using Platform.Core.Data;
using Platform.Core.Notifications;

namespace Platform.Tests.Integration.Notifications;

public sealed class OutboxAndPreferencesTests(NotificationsFixture fx) : IClassFixture<NotificationsFixture>
{
    [Fact]
    public async Task Ten_concurrent_producers_make_one_outbox_row_and_one_delivery()
    {
        var tenant = await fx.CreateTenantAsync("dedupe");
        var (_, streamUrl) = await fx.UserTokenAsync(tenant.ApiKey, "ada", "member");
        await using var stream = await NotificationStreamClient.ConnectAsync(streamUrl);

        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Task.Run(() =>
            fx.ProduceAsync(tenant.Id, "ada", "meeting-42", "civic.meeting-summary", NotificationChannels.InApp))));

        Assert.Single(results.Select(r => r.OutboxId).Distinct());
        Assert.Single(results, r => !r.Duplicate);
        var id = results[0].OutboxId;
        Assert.Equal(1, await fx.ScalarAsync("SELECT count(*) FROM ops.notification_outbox WHERE tenant_id = $1", tenant.Id));
        await stream.WaitForAsync(id);
        var deliveries = await fx.WaitForDeliveriesAsync(id, d => d.Count == 1 && d[0].State == DeliveryStates.Sent, "the in-app delivery is sent");
        Assert.Equal(1, deliveries[0].Attempts);
        Assert.Equal(1, await fx.ScalarAsync("SELECT count(*) FROM ops.job_requests WHERE kind = 'notifications.fanout' AND args->>'outboxId' = $1", id.ToString()));
        Assert.Equal([id], stream.Ids);

        // Running the producer again later is still a no-op.
        var again = await fx.ProduceAsync(tenant.Id, "ada", "meeting-42", "civic.meeting-summary", NotificationChannels.InApp);
        Assert.True(again.Duplicate);
        Assert.Equal(id, again.OutboxId);
    }

    [Fact]
    public async Task The_outbox_row_keeps_its_components_and_the_dedupe_hash()
    {
        var tenant = await fx.CreateTenantAsync("components");
        var enqueued = await fx.ProduceAsync(tenant.Id, "bob", "meeting-7", "civic.agenda", NotificationChannels.InApp);
        await using var cmd = await fx.Db.CreateSystemCommandAsync(NotificationsFixture.TestReads,
            "SELECT user_id, subject_id, notification_type, dedupe_key FROM ops.notification_outbox WHERE id = $1");
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter<long> { TypedValue = enqueued.OutboxId });
        await using var r = await cmd.ExecuteReaderAsync();
        Assert.True(await r.ReadAsync());
        Assert.Equal(("bob", "meeting-7", "civic.agenda"), (r.GetString(0), r.GetString(1), r.GetString(2)));
        Assert.Equal(NotificationOutbox.DedupeKey("bob", "meeting-7", "civic.agenda"), r.GetFieldValue<byte[]>(3));
    }

    [Theory]
    [InlineData("paused", "{\"pauseUntil\":\"2099-01-01T00:00:00Z\"}", SuppressionReasons.Paused)]
    [InlineData("opted", "{\"optedOutTypes\":[\"civic.meeting-summary\"]}", SuppressionReasons.OptedOut)]
    [InlineData("disabled", "{\"enabled\":false}", SuppressionReasons.UserDisabled)]
    public async Task Preferences_suppress_delivery_with_the_reason(string user, string patch, string reason)
    {
        var tenant = await fx.CreateTenantAsync($"prefs-{user}");
        var (token, _) = await fx.UserTokenAsync(tenant.ApiKey, user);
        var response = await fx.Client(token).PatchAsync("/v1/me/notification-preferences", NotificationsFixture.Body(patch));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var enqueued = await fx.ProduceAsync(tenant.Id, user, "meeting-1", "civic.meeting-summary", NotificationChannels.InApp);
        var deliveries = await fx.WaitForDeliveriesAsync(enqueued.OutboxId, d => d.Count == 1 && d[0].State != DeliveryStates.Pending,
            "the delivery reaches a final state");
        Assert.Equal((ChannelNames.InApp, DeliveryStates.Suppressed, reason), (deliveries[0].Channel, deliveries[0].State, deliveries[0].Reason));
        Assert.Equal(1, await fx.ScalarAsync(
            "SELECT count(*) FROM ops.notification_attempts a JOIN ops.notification_deliveries d ON d.id = a.delivery_id WHERE d.outbox_id = $1 AND a.outcome = 'suppressed'",
            enqueued.OutboxId));

        // Nothing reached the user's inbox.
        var inbox = await NotificationsFixture.Json(await fx.Client(token).GetAsync("/v1/me/notifications"));
        Assert.Equal(0, inbox.GetProperty("items").GetArrayLength());

        // Another type (or after resuming) is delivered.
        if (user == "opted")
        {
            var other = await fx.ProduceAsync(tenant.Id, user, "meeting-1", "civic.agenda", NotificationChannels.InApp);
            await fx.WaitForDeliveriesAsync(other.OutboxId, d => d.Count == 1 && d[0].State == DeliveryStates.Sent, "another type is sent");
        }
    }

    [Fact]
    public async Task Preferences_round_trip_and_bad_input_is_a_problem_that_changes_nothing()
    {
        var tenant = await fx.CreateTenantAsync("prefs-api");
        var (token, _) = await fx.UserTokenAsync(tenant.ApiKey, "carol");
        var client = fx.Client(token);
        var ok = await client.PatchAsync("/v1/me/notification-preferences",
            NotificationsFixture.Body("{\"optedOutTypes\":[\"a.b\"],\"pauseUntil\":\"2030-01-01T00:00:00Z\"}"));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);

        foreach (var bad in new[] { "{\"enabled\":\"yes\"}", "{\"pauseUntil\":\"soon\"}", "{\"optedOutTypes\":[\"Bad Type\"]}", "{\"colour\":1}", "[1]", "{" })
        {
            var response = await client.PatchAsync("/v1/me/notification-preferences", NotificationsFixture.Body(bad));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        var prefs = await NotificationsFixture.Json(await client.GetAsync("/v1/me/notification-preferences"));
        Assert.True(prefs.GetProperty("enabled").GetBoolean());
        Assert.Equal(["a.b"], prefs.GetProperty("optedOutTypes").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero), prefs.GetProperty("pauseUntil").GetDateTimeOffset());

        var resumed = await client.PatchAsync("/v1/me/notification-preferences", NotificationsFixture.Body("{\"pauseUntil\":null}"));
        Assert.Equal(JsonValueKind.Null, (await NotificationsFixture.Json(resumed)).GetProperty("pauseUntil").ValueKind);
    }

    [Fact]
    public async Task User_tokens_are_tenant_minted_with_known_roles_only()
    {
        var tenant = await fx.CreateTenantAsync("tokens");
        var bad = await fx.Client(tenant.ApiKey).PostAsJsonAsync("/v1/users/dan/tokens", new { roles = new[] { "admin" } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("roles", (await NotificationsFixture.Json(bad)).GetProperty("errors").EnumerateObject().Select(p => p.Name));
        var ttl = await fx.Client(tenant.ApiKey).PostAsJsonAsync("/v1/users/dan/tokens", new { ttlSeconds = 0 });
        Assert.Equal(HttpStatusCode.BadRequest, ttl.StatusCode);

        var (token, streamUrl) = await fx.UserTokenAsync(tenant.ApiKey, "dan", "team_lead", "ops");
        Assert.Contains(streamUrl.Port, new[] { fx.NodeUri(0).Port, fx.NodeUri(1).Port });
        // A user token cannot mint tokens or read conversations; a tenant key cannot read "me".
        Assert.Equal(HttpStatusCode.Forbidden, (await fx.Client(token).PostAsJsonAsync("/v1/users/x/tokens", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await fx.Client(tenant.ApiKey).GetAsync("/v1/me/notifications")).StatusCode);
    }

    [Fact]
    public async Task The_openapi_document_lists_the_notification_operations()
    {
        var doc = JsonDocument.Parse(await fx.Client().GetStringAsync("/openapi/v1.json")).RootElement;
        var operations = doc.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(o => o.Value.TryGetProperty("operationId", out var id) ? id.GetString() : null))
            .ToHashSet();
        foreach (var name in new[]
                 {
                     "IssueUserToken", "GetNotificationPreferences", "UpdateNotificationPreferences", "AddPushSubscription", "ListPushSubscriptions",
                     "DeletePushSubscription", "ListNotifications", "MarkNotificationRead", "ReplayNotification", "CreateWebhook", "ListWebhooks",
                     "DeleteWebhook", "ListWebhookDeliveries",
                 })
        {
            Assert.Contains(name, operations);
        }
    }
}
