using System.Security.Cryptography;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using Platform.Core.Data;
using Platform.Core.Jobs;

namespace Platform.Core.Notifications;

/// <summary>
/// The producer API. Call it inside your own transaction: the notification (and its fan-out job) exists only
/// if your business write commits, and the same (user, subject, type) is enqueued at most once ever, however
/// often or concurrently the producer runs.
/// </summary>
public sealed class NotificationOutbox(IJobQueue jobs)
{
    /// <summary>sha256(user_id|subject_id|notification_type): one logical notification.</summary>
    public static byte[] DedupeKey(string userId, string subjectId, string notificationType) =>
        SHA256.HashData(Encoding.UTF8.GetBytes($"{userId}|{subjectId}|{notificationType}"));

    public async Task<NotificationEnqueued> EnqueueAsync(NpgsqlTransaction tx, Notification n, CancellationToken ct = default)
    {
        NotificationRules.Validate(n);
        var key = DedupeKey(n.UserId, n.SubjectId, n.NotificationType);
        // ON CONFLICT waits for a concurrent producer's transaction, then does nothing: exactly one row wins.
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO ops.notification_outbox (tenant_id, user_id, subject_id, notification_type, payload, channels, dedupe_key)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (tenant_id, dedupe_key) DO NOTHING
            RETURNING id
            """, tx.Connection, tx))
        {
            insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = n.TenantId });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = n.UserId });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = n.SubjectId });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = n.NotificationType });
            insert.Parameters.Add(new NpgsqlParameter { Value = n.Payload.GetRawText(), NpgsqlDbType = NpgsqlDbType.Jsonb });
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = ChannelNames.Of(n.Channels) });
            insert.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = key });
            if (await insert.ExecuteScalarAsync(ct) is long id)
            {
                await jobs.EnqueueAsync(tx, new NotificationFanoutArgs(id),
                    new JobOptions { UniqueKey = $"notification:{id}", MaxAttempts = 10 }, ct);
                NotificationMetrics.Enqueued.Add(1);
                return new NotificationEnqueued(id, Duplicate: false);
            }
        }
        await using var existing = new NpgsqlCommand(
            "SELECT id FROM ops.notification_outbox WHERE tenant_id = $1 AND dedupe_key = $2", tx.Connection, tx);
        existing.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = n.TenantId });
        existing.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = key });
        return new NotificationEnqueued((long)(await existing.ExecuteScalarAsync(ct))!, Duplicate: true);
    }

    /// <summary>Convenience for callers without a transaction of their own.</summary>
    public async Task<NotificationEnqueued> EnqueueAsync(NpgsqlDataSource db, Notification n, CancellationToken ct = default)
    {
        await using var connection = await db.OpenForTenantAsync(n.TenantId, ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var result = await EnqueueAsync(tx, n, ct);
        await tx.CommitAsync(ct);
        return result;
    }
}

public static class NotificationRules
{
    public const int MaxIdLength = 200;
    public const int MaxPayloadBytes = 3000; // fits one Web Push record (4 KiB) with its envelope

    public static void Validate(Notification n)
    {
        if (n.TenantId == Guid.Empty)
        {
            throw new ArgumentException("tenantId is required.", nameof(n));
        }
        if (string.IsNullOrEmpty(n.UserId) || n.UserId.Length > MaxIdLength)
        {
            throw new ArgumentException($"userId must be 1–{MaxIdLength} characters.", nameof(n));
        }
        if (string.IsNullOrEmpty(n.SubjectId) || n.SubjectId.Length > MaxIdLength)
        {
            throw new ArgumentException($"subjectId must be 1–{MaxIdLength} characters.", nameof(n));
        }
        if (!IsType(n.NotificationType))
        {
            throw new ArgumentException("notificationType must match ^[a-z0-9][a-z0-9._-]{0,99}$ (e.g. civic.meeting-summary).", nameof(n));
        }
        if (n.Channels == 0 || (n.Channels & ~NotificationChannels.All) != 0)
        {
            throw new ArgumentException("channels must name at least one channel.", nameof(n));
        }
        if (n.Payload.ValueKind != System.Text.Json.JsonValueKind.Object || Encoding.UTF8.GetByteCount(n.Payload.GetRawText()) > MaxPayloadBytes)
        {
            throw new ArgumentException($"payload must be a JSON object of at most {MaxPayloadBytes} bytes.", nameof(n));
        }
    }

    public static bool IsType(string? type) =>
        type is { Length: > 0 and <= 100 } && IsLowerOrDigit(type[0])
        && type.All(c => IsLowerOrDigit(c) || c is '.' or '_' or '-');

    private static bool IsLowerOrDigit(char c) => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c);
}
