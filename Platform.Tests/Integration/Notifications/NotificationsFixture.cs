using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Notifications;
using Platform.Tests.Integration.Jobs;
using Platform.Tests.Integration.Realtime;

namespace Platform.Tests.Integration.Notifications;

/// <summary>Api + two Realtime nodes + the real Worker (fast job settings) on one fresh database and Redis.</summary>
public class NotificationsFixture : RealtimeFixture
{
    public const int DisableAfterFailures = 3;

    public (string PublicKey, string PrivateKey) VapidKeys { get; } = Vapid.GenerateKeys();
    public JobWorkerHost Worker { get; private set; } = null!;
    public NpgsqlDataSource Db => Api.Services.GetRequiredService<NpgsqlDataSource>();

    /// <summary>The reason of the system scope the tests' own reads run in (rows of every tenant the fixture made).</summary>
    public const string TestReads = "test reads across the fixture's tenants";
    public NotificationOutbox Outbox => Api.Services.GetRequiredService<NotificationOutbox>();

    /// <summary>Test peers listen on 127.0.0.1 over http: the operator allow-list a developer machine would have.</summary>
    public const string AllowedHost = "127.0.0.1";

    protected override void Configure(Dictionary<string, string?> settings)
    {
        base.Configure(settings);
        settings["Platform:Outbound:AllowedHosts:0"] = AllowedHost;
    }

    /// <summary>False for a fixture whose tests run their own in-app relays (and need no Worker).</summary>
    protected virtual bool StartsWorker => true;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        if (!StartsWorker)
        {
            return;
        }
        var settings = FastJobSettings.For(Database, Redis, "notifications-worker");
        settings["Platform:Outbound:AllowedHosts:0"] = AllowedHost;
        settings["Platform:Notifications:WebhookDisableAfterFailures"] = DisableAfterFailures.ToString();
        settings["Platform:Notifications:MaxAttempts"] = "10";
        settings["Platform:Notifications:Vapid:PublicKey"] = VapidKeys.PublicKey;
        settings["Platform:Notifications:Vapid:PrivateKey"] = VapidKeys.PrivateKey;
        settings["Platform:Notifications:Vapid:Subject"] = "mailto:test@example.com";
        ConfigureWorker(settings);
        Worker = new JobWorkerHost(settings).Start();
    }

    /// <summary>Extra Worker settings of a derived fixture (e.g. an SMTP server).</summary>
    protected virtual void ConfigureWorker(Dictionary<string, string?> settings)
    {
    }

    public async Task<(string Token, Uri StreamUrl)> UserTokenAsync(string apiKey, string userId, params string[] roles)
    {
        var response = await Client(apiKey).PostAsJsonAsync($"/v1/users/{userId}/tokens", new { roles });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await Json(response);
        return (body.GetProperty("token").GetString()!, new Uri(body.GetProperty("streamUrl").GetString()!));
    }

    public Task<NotificationEnqueued> ProduceAsync(Guid tenant, string user, string subject, string type = "civic.meeting-summary",
        NotificationChannels channels = NotificationChannels.All, object? payload = null) =>
        Outbox.EnqueueAsync(Db, new Notification(tenant, user, subject, type, JsonSerializer.SerializeToElement(payload ?? new { title = subject }), channels));

    public async Task<IReadOnlyList<(string Channel, string State, string? Reason, int Attempts)>> DeliveriesAsync(long outboxId)
    {
        await using var cmd = await Db.CreateSystemCommandAsync(TestReads,
            "SELECT channel, state, reason, attempts FROM ops.notification_deliveries WHERE outbox_id = $1 ORDER BY id");
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = outboxId });
        var list = new List<(string, string, string?, int)>();
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync())
        {
            list.Add((r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.GetInt32(3)));
        }
        return list;
    }

    public Task<IReadOnlyList<(string Channel, string State, string? Reason, int Attempts)>> WaitForDeliveriesAsync(long outboxId,
        Func<IReadOnlyList<(string Channel, string State, string? Reason, int Attempts)>, bool> done, string because) =>
        Eventually.ReturnsAsync(() => DeliveriesAsync(outboxId), done, TimeSpan.FromSeconds(30), because);

    /// <summary>
    /// Gives the person a confirmed address, as one set before confirmation existed or confirmed through its link:
    /// written directly, so no confirmation email joins the mail a test counts (the link itself is tested on its own).
    /// </summary>
    public async Task ConfirmedEmailAsync(Guid tenantId, string userId, string email)
    {
        await using var cmd = await Db.CreateTenantCommandAsync(tenantId, """
            INSERT INTO ops.notification_profiles (tenant_id, user_id, email, email_verified_at) VALUES ($1, $2, $3, now())
            ON CONFLICT (tenant_id, user_id) DO UPDATE SET email = EXCLUDED.email, email_verified_at = now(),
              email_status = CASE WHEN ops.notification_profiles.email = EXCLUDED.email THEN ops.notification_profiles.email_status ELSE 'active' END
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = userId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = email });
        await cmd.ExecuteNonQueryAsync();
    }

    public async Task<long> ScalarAsync(string sql, params object[] args)
    {
        await using var cmd = await Db.CreateSystemCommandAsync(TestReads, sql);
        foreach (var a in args)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        }
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    public override async Task DisposeAsync()
    {
        if (StartsWorker)
        {
            await Worker.DisposeAsync();
        }
        await base.DisposeAsync();
    }
}

/// <summary>A WebSocket client of a user's notification stream that records every frame's notification ids.</summary>
public sealed class NotificationStreamClient : JsonSocketClient
{
    public IReadOnlyList<IReadOnlyList<long>> Frames =>
        [.. Messages.Select(m => (IReadOnlyList<long>)[.. m.GetProperty("notifications").EnumerateArray().Select(n => n.GetProperty("id").GetInt64())])];

    public IReadOnlyList<long> Ids => [.. Frames.SelectMany(f => f)];

    public static async Task<NotificationStreamClient> ConnectAsync(Uri streamUrl)
    {
        var client = new NotificationStreamClient();
        var uri = new UriBuilder(streamUrl) { Scheme = streamUrl.Scheme == "https" ? "wss" : "ws" }.Uri;
        await client.Socket.ConnectAsync(uri, CancellationToken.None);
        client.StartReading();
        // The first frame (unread, possibly empty) means the stream is live.
        await Eventually.TrueAsync(() => Task.FromResult(client.Messages.Count > 0 || client.CloseStatus is not null), TimeSpan.FromSeconds(15),
            "the stream sends its first frame");
        return client;
    }

    public Task WaitForAsync(long id) =>
        Eventually.TrueAsync(() => Task.FromResult(Ids.Contains(id)), TimeSpan.FromSeconds(20), $"notification {id} arrives on the stream");
}
