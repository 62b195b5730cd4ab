using Npgsql;
using Platform.Core.Data;
using Platform.Core.Impact.Privacy;

namespace Platform.Core.Notifications;

/// <param name="EventTypes">Notification types this endpoint receives; empty means every type.</param>
public sealed record WebhookEndpoint(Guid Id, string Url, IReadOnlyList<string> EventTypes, string Status, int FailureStreak,
    DateTimeOffset? DisabledAt, DateTimeOffset CreatedAt);

public sealed record WebhookAttempt(int Attempt, string Outcome, int? StatusCode, string? Error, double LatencyMs, DateTimeOffset At);

public sealed record WebhookDelivery(long DeliveryId, long OutboxId, string NotificationType, string State, string? Reason,
    DateTimeOffset CreatedAt, IReadOnlyList<WebhookAttempt> Attempts);

/// <summary>A tenant's webhook endpoints and their delivery log.</summary>
public sealed class WebhookEndpoints(NpgsqlDataSource db, PiiVault vault)
{
    private const string Columns = "id, url, event_types, status, failure_streak, disabled_at, created_at";

    public async Task<(WebhookEndpoint Endpoint, string Secret)> CreateAsync(Guid tenantId, string url, IReadOnlyList<string> eventTypes,
        CancellationToken ct = default)
    {
        var secret = WebhookSignature.NewSecret();
        var id = Guid.CreateVersion7();
        await using var cmd = await db.CreateTenantCommandAsync(tenantId, $"""
            INSERT INTO ops.webhook_endpoints (id, tenant_id, url, secret_enc, event_types) VALUES ($1, $2, $3, $4, $5) RETURNING {Columns}
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = url });
        // Stored sealed (WebhookSecrets); the plaintext is shown once, in this answer.
        cmd.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = vault.SealWebhookSecret(secret, id) });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. eventTypes.Distinct()] });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        return (Read(r), secret);
    }

    public async Task<IReadOnlyList<WebhookEndpoint>> ListAsync(Guid tenantId, CancellationToken ct = default)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenantId, $"SELECT {Columns} FROM ops.webhook_endpoints WHERE tenant_id = $1 AND status <> 'deleted' ORDER BY id", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        var list = new List<WebhookEndpoint>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(Read(r));
        }
        return list;
    }

    public async Task<WebhookEndpoint?> FindAsync(Guid tenantId, Guid id, CancellationToken ct = default)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenantId, $"SELECT {Columns} FROM ops.webhook_endpoints WHERE tenant_id = $1 AND id = $2 AND status <> 'deleted'", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? Read(r) : null;
    }

    /// <summary>Soft delete: the delivery log stays readable by operators; the endpoint gets nothing more.</summary>
    public async Task<bool> DeleteAsync(Guid tenantId, Guid id, CancellationToken ct = default)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenantId, 
            "UPDATE ops.webhook_endpoints SET status = 'deleted' WHERE tenant_id = $1 AND id = $2 AND status <> 'deleted'", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>The delivery log: newest first, each with its attempts.</summary>
    public async Task<IReadOnlyList<WebhookDelivery>> DeliveriesAsync(Guid tenantId, Guid endpointId, int limit, CancellationToken ct = default)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenantId, """
            SELECT d.id, d.outbox_id, o.notification_type, d.state, d.reason, d.created_at,
                   COALESCE(json_agg(json_build_array(a.attempt, a.outcome, a.status_code, a.error, a.latency_ms, a.at) ORDER BY a.id)
                            FILTER (WHERE a.id IS NOT NULL), '[]')::text
            FROM ops.notification_deliveries d
            JOIN ops.notification_outbox o ON o.id = d.outbox_id
            LEFT JOIN ops.notification_attempts a ON a.delivery_id = d.id
            WHERE d.tenant_id = $1 AND d.channel = 'webhook' AND d.target = $2
            GROUP BY d.id, o.notification_type
            ORDER BY d.id DESC LIMIT $3
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = endpointId.ToString() });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        var list = new List<WebhookDelivery>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            using var attempts = System.Text.Json.JsonDocument.Parse(r.GetString(6));
            var parsed = attempts.RootElement.EnumerateArray().Select(a => new WebhookAttempt(a[0].GetInt32(), a[1].GetString()!,
                a[2].ValueKind == System.Text.Json.JsonValueKind.Null ? null : a[2].GetInt32(), a[3].GetString(), a[4].GetDouble(),
                a[5].GetDateTimeOffset())).ToList();
            list.Add(new WebhookDelivery(r.GetInt64(0), r.GetInt64(1), r.GetString(2), r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4),
                r.GetFieldValue<DateTimeOffset>(5), parsed));
        }
        return list;
    }

    private static WebhookEndpoint Read(NpgsqlDataReader r) => new(r.GetGuid(0), r.GetString(1), r.GetFieldValue<string[]>(2), r.GetString(3),
        r.GetInt32(4), r.IsDBNull(5) ? null : r.GetFieldValue<DateTimeOffset>(5), r.GetFieldValue<DateTimeOffset>(6));
}
