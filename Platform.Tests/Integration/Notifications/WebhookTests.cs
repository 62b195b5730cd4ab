using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Core.Notifications;

namespace Platform.Tests.Integration.Notifications;

public sealed class WebhookTests(NotificationsFixture fx) : IClassFixture<NotificationsFixture>
{
    private sealed record Call(string Path, string MessageId, bool SignatureValid, string Type);

    private async Task<(Guid Id, string Secret)> RegisterAsync(string apiKey, Uri url, params string[] eventTypes)
    {
        var response = await fx.Client(apiKey).PostAsJsonAsync("/v1/webhooks", new { url = url.ToString(), eventTypes });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await NotificationsFixture.Json(response);
        return (body.GetProperty("id").GetGuid(), body.GetProperty("secret").GetString()!);
    }

    [Fact]
    public async Task The_receiver_verifies_the_signature_filters_apply_and_replay_resends()
    {
        var calls = new ConcurrentQueue<Call>();
        var secret = "";
        await using var receiver = await StubServer.StartAsync(app => app.MapPost("/hooks", async (HttpRequest request) =>
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer);
            var body = buffer.ToArray();
            var id = request.Headers["webhook-id"].ToString();
            var timestamp = long.Parse(request.Headers["webhook-timestamp"].ToString());
            var valid = WebhookSignature.Verify(Volatile.Read(ref secret), id, timestamp, body, request.Headers["webhook-signature"].ToString())
                && Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - timestamp) < 300;
            using var doc = JsonDocument.Parse(body);
            calls.Enqueue(new Call("/hooks", id, valid, doc.RootElement.GetProperty("type").GetString()!));
            return valid ? Results.NoContent() : Results.Unauthorized();
        }));
        var tenant = await fx.CreateTenantAsync("hooks");
        var (endpointId, s) = await RegisterAsync(tenant.ApiKey, new Uri(receiver.BaseAddress, "/hooks"), "impact.outcome-scored");
        Volatile.Write(ref secret, s);
        Assert.StartsWith("whsec_", s);

        var matching = await fx.ProduceAsync(tenant.Id, "kim", "program-1", "impact.outcome-scored", NotificationChannels.Webhook);
        var filtered = await fx.ProduceAsync(tenant.Id, "kim", "program-1", "impact.other", NotificationChannels.Webhook);
        await fx.WaitForDeliveriesAsync(matching.OutboxId, d => d.Count == 1 && d[0].State == DeliveryStates.Sent, "the webhook is delivered");
        var call = Assert.Single(calls);
        Assert.True(call.SignatureValid);
        Assert.Equal("impact.outcome-scored", call.Type);
        Assert.Empty(await fx.DeliveriesAsync(filtered.OutboxId)); // the endpoint's filter excludes this type

        var log = await NotificationsFixture.Json(await fx.Client(tenant.ApiKey).GetAsync($"/v1/webhooks/{endpointId}/deliveries"));
        var entry = Assert.Single(log.GetProperty("items").EnumerateArray());
        Assert.Equal("sent", entry.GetProperty("state").GetString());
        Assert.Equal(204, entry.GetProperty("attempts")[0].GetProperty("statusCode").GetInt32());

        // Operator replay sends the same message (same webhook-id) once more.
        var replay = await fx.Client(TestSettings.OperatorKey).PostAsync($"/v1/internal/notifications/replay/{matching.OutboxId}", null);
        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        await Eventually.TrueAsync(() => Task.FromResult(calls.Count == 2), TimeSpan.FromSeconds(20), "the replay reaches the receiver");
        Assert.All(calls, c => Assert.True(c.SignatureValid));
        Assert.Single(calls.Select(c => c.MessageId).Distinct());
        await fx.WaitForDeliveriesAsync(matching.OutboxId, d => d[0].State == DeliveryStates.Sent && d[0].Attempts == 2, "the replay is logged");

        Assert.Equal(HttpStatusCode.NotFound, (await fx.Client(TestSettings.OperatorKey).PostAsync("/v1/internal/notifications/replay/999999999", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await fx.Client(tenant.ApiKey).PostAsync($"/v1/internal/notifications/replay/{matching.OutboxId}", null)).StatusCode);
    }

    [Fact]
    public async Task Signing_secrets_are_stored_sealed_and_deliveries_still_verify_including_secrets_stored_before_sealing()
    {
        var calls = new ConcurrentQueue<(string Path, bool Valid)>();
        var secrets = new ConcurrentDictionary<string, string>();
        await using var receiver = await StubServer.StartAsync(app => app.MapPost("/sealed/{name}", async (string name, HttpRequest request) =>
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer);
            var valid = WebhookSignature.Verify(secrets[name], request.Headers["webhook-id"].ToString(),
                long.Parse(request.Headers["webhook-timestamp"].ToString()), buffer.ToArray(), request.Headers["webhook-signature"].ToString());
            calls.Enqueue((name, valid));
            return valid ? Results.NoContent() : Results.Unauthorized();
        }));
        var tenant = await fx.CreateTenantAsync("hooks-sealed");
        var (endpointId, secret) = await RegisterAsync(tenant.ApiKey, new Uri(receiver.BaseAddress, "/sealed/new"));
        secrets["new"] = secret;

        // At rest: no plaintext column, and the sealed bytes contain neither the secret nor its key bytes.
        var (plain, sealedSecret) = await StoredSecretAsync(endpointId);
        Assert.Null(plain);
        Assert.NotNull(sealedSecret);
        var key = Convert.FromBase64String(secret[WebhookSignature.SecretPrefix.Length..]);
        Assert.Equal(-1, sealedSecret.AsSpan().IndexOf(key));
        Assert.Equal(-1, sealedSecret.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(secret)));

        // An endpoint stored in plaintext (as before sealing) still signs, and the start-up step seals it.
        var legacyId = Guid.CreateVersion7();
        var legacySecret = WebhookSignature.NewSecret();
        secrets["legacy"] = legacySecret;
        await using (var owner = new NpgsqlConnection(fx.Database))
        {
            await owner.OpenAsync();
            await using var insert = new NpgsqlCommand("INSERT INTO ops.webhook_endpoints (id, tenant_id, url, secret) VALUES ($1, $2, $3, $4)", owner);
            insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = legacyId });
            insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenant.Id });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = new Uri(receiver.BaseAddress, "/sealed/legacy").ToString() });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = legacySecret });
            await insert.ExecuteNonQueryAsync();
        }
        var first = await fx.ProduceAsync(tenant.Id, "sam", "sealed-1", "impact.sealed", NotificationChannels.Webhook);
        await fx.WaitForDeliveriesAsync(first.OutboxId, d => d.Count == 2 && d.All(x => x.State == DeliveryStates.Sent), "both endpoints get it");

        var vault = fx.Api.Services.GetRequiredService<Platform.Core.Impact.Privacy.PiiVault>();
        var sealedNow = await WebhookSecrets.SealStoredAsync(fx.Db, vault, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, default);
        Assert.True(sealedNow >= 1);
        var (legacyPlain, legacySealed) = await StoredSecretAsync(legacyId);
        Assert.Null(legacyPlain);
        Assert.NotNull(legacySealed);
        Assert.Equal(0, await WebhookSecrets.SealStoredAsync(fx.Db, vault, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, default));

        var second = await fx.ProduceAsync(tenant.Id, "sam", "sealed-2", "impact.sealed", NotificationChannels.Webhook);
        await fx.WaitForDeliveriesAsync(second.OutboxId, d => d.Count == 2 && d.All(x => x.State == DeliveryStates.Sent), "both still verify once sealed");
        Assert.Equal(4, calls.Count);
        Assert.All(calls, c => Assert.True(c.Valid, $"{c.Path}: signature verifies"));
        Assert.Equal(2, calls.Count(c => c.Path == "legacy"));
    }

    private async Task<(string? Plain, byte[]? Sealed)> StoredSecretAsync(Guid endpointId)
    {
        await using var owner = new NpgsqlConnection(fx.Database);
        await owner.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT secret, secret_enc FROM ops.webhook_endpoints WHERE id = $1", owner);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = endpointId });
        await using var r = await cmd.ExecuteReaderAsync();
        Assert.True(await r.ReadAsync());
        return (r.IsDBNull(0) ? null : r.GetString(0), r.IsDBNull(1) ? null : r.GetFieldValue<byte[]>(1));
    }

    [Fact]
    public async Task A_failing_receiver_is_retried_then_disabled()
    {
        var calls = 0;
        await using var receiver = await StubServer.StartAsync(app => app.MapPost("/down", () =>
        {
            Interlocked.Increment(ref calls);
            return Results.StatusCode(503);
        }));
        var tenant = await fx.CreateTenantAsync("hooks-down");
        var (endpointId, _) = await RegisterAsync(tenant.ApiKey, new Uri(receiver.BaseAddress, "/down"));

        var n = await fx.ProduceAsync(tenant.Id, "lee", "case-1", "impact.alert", NotificationChannels.Webhook);
        var deliveries = await fx.WaitForDeliveriesAsync(n.OutboxId, d => d.Count == 1 && d[0].State == DeliveryStates.Failed, "the delivery fails for good");
        Assert.Equal(NotificationsFixture.DisableAfterFailures, deliveries[0].Attempts);
        Assert.Contains("endpoint disabled", deliveries[0].Reason);
        Assert.Equal(NotificationsFixture.DisableAfterFailures, Volatile.Read(ref calls));

        var endpoints = await NotificationsFixture.Json(await fx.Client(tenant.ApiKey).GetAsync("/v1/webhooks"));
        var endpoint = endpoints.EnumerateArray().Single(e => e.GetProperty("id").GetGuid() == endpointId);
        Assert.Equal("disabled", endpoint.GetProperty("status").GetString());
        var log = await NotificationsFixture.Json(await fx.Client(tenant.ApiKey).GetAsync($"/v1/webhooks/{endpointId}/deliveries"));
        var attempts = log.GetProperty("items")[0].GetProperty("attempts").EnumerateArray().ToList();
        Assert.Equal(["retry", "retry", "failed"], attempts.Select(a => a.GetProperty("outcome").GetString()));
        Assert.All(attempts, a => Assert.Equal(503, a.GetProperty("statusCode").GetInt32()));

        // A disabled endpoint gets nothing more.
        var later = await fx.ProduceAsync(tenant.Id, "lee", "case-2", "impact.alert", NotificationChannels.Webhook);
        await fx.WaitForDeliveriesAsync(n.OutboxId, d => d.Count == 1, "still one");
        Assert.Empty(await fx.DeliveriesAsync(later.OutboxId));
    }

    [Fact]
    public async Task Bad_webhook_requests_are_problems_and_store_nothing()
    {
        var tenant = await fx.CreateTenantAsync("hooks-bad");
        object[] bodies = [new { url = "ftp://x" }, new { url = "https://ok.example", eventTypes = new[] { "Not Valid" } }, new { }];
        foreach (var body in bodies)
        {
            var response = await fx.Client(tenant.ApiKey).PostAsJsonAsync("/v1/webhooks", body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
        Assert.Equal(0, (await NotificationsFixture.Json(await fx.Client(tenant.ApiKey).GetAsync("/v1/webhooks"))).GetArrayLength());
        Assert.Equal(HttpStatusCode.NotFound, (await fx.Client(tenant.ApiKey).DeleteAsync($"/v1/webhooks/{Guid.NewGuid()}")).StatusCode);
    }
}
