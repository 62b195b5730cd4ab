using System.Text.Json;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Jobs;

namespace Platform.Core.Notifications;

/// <summary>Escalates one safety flag: a job queued in the transaction that stores the flag.</summary>
public sealed record SafetyEscalationArgs(Guid TenantId, Guid FlagId, string[] Categories, string[] Signals) : IJobArgs
{
    public static string Kind => "notifications.safety-escalation";
    public static string Queue => "notifications";
}

/// <summary>One escalation as the audit keeps it.</summary>
public sealed record SafetyEscalationRecord(long Id, Guid FlagId, IReadOnlyList<string> Categories, IReadOnlyList<string> Contacts,
    IReadOnlyList<long> OutboxIds, DateTimeOffset CreatedAt);

/// <summary>
/// A self-harm or violence flag notifies the tenant's designated safety contacts at once, on every channel each of
/// them enabled for <see cref="Type"/>, and leaves an audit entry. Safety alerts are never held back by a digest, quiet
/// hours, a pause or the global switch: only a contact's per-channel choices for this type apply.
/// </summary>
public static class SafetyEscalation
{
    public const string Type = "safety.escalation";
    public const string SelfHarm = "self_harm";

    /// <summary>Screen signals that mean a threat of violence (the abuse category also holds plain insults, which do not escalate).</summary>
    public static readonly IReadOnlyList<string> ViolenceSignals = ["abuse:i will hurt you", "abuse:threaten"];

    public static bool ShouldEscalate(IReadOnlyCollection<string> categories, IReadOnlyCollection<string> signals) =>
        categories.Contains(SelfHarm) || signals.Any(ViolenceSignals.Contains);
}

public sealed class SafetyContacts(NpgsqlDataSource db)
{
    public const int MaxContacts = 50;

    public async Task<IReadOnlyList<string>> ListAsync(Guid tenantId, CancellationToken ct = default)
    {
        await using var conn = await db.OpenForTenantAsync(tenantId, ct);
        return await ListAsync(conn, null, tenantId, ct);
    }

    internal static async Task<IReadOnlyList<string>> ListAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, Guid tenantId, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT user_id FROM ops.safety_contacts WHERE tenant_id = $1 ORDER BY user_id", conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        var list = new List<string>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(r.GetString(0));
        }
        return list;
    }

    /// <summary>Replaces the tenant's safety contacts with <paramref name="userIds"/> (one transaction).</summary>
    public async Task<IReadOnlyList<string>> ReplaceAsync(Guid tenantId, IReadOnlyList<string> userIds, CancellationToken ct = default)
    {
        await using var conn = await db.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var delete = new NpgsqlCommand("DELETE FROM ops.safety_contacts WHERE tenant_id = $1 AND NOT (user_id = ANY ($2))", conn, tx))
        {
            delete.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            delete.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. userIds] });
            await delete.ExecuteNonQueryAsync(ct);
        }
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO ops.safety_contacts (tenant_id, user_id) SELECT $1, u FROM unnest($2::text[]) u ON CONFLICT DO NOTHING", conn, tx))
        {
            insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. userIds] });
            await insert.ExecuteNonQueryAsync(ct);
        }
        var list = await ListAsync(conn, tx, tenantId, ct);
        await tx.CommitAsync(ct);
        return list;
    }

    public async Task<IReadOnlyList<SafetyEscalationRecord>> EscalationsAsync(Guid tenantId, int limit, CancellationToken ct = default)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenantId, """
            SELECT id, flag_id, categories, contacts, outbox_ids, created_at FROM ops.safety_escalations
            WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        var list = new List<SafetyEscalationRecord>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(new SafetyEscalationRecord(r.GetInt64(0), r.GetGuid(1), r.GetFieldValue<string[]>(2), r.GetFieldValue<string[]>(3),
                r.GetFieldValue<long[]>(4), r.GetFieldValue<DateTimeOffset>(5)));
        }
        return list;
    }
}

/// <summary>
/// Runs an escalation: one notification per safety contact (all channels; their choices decide at send time) and the
/// audit row, in one tenant-scoped transaction. A rerun finds the outbox rows and the audit row already there.
/// </summary>
public sealed partial class SafetyEscalationHandler(NpgsqlDataSource db, NotificationOutbox outbox, ILogger<SafetyEscalationHandler> logger)
    : IJobHandler<SafetyEscalationArgs>
{
    public async Task HandleAsync(SafetyEscalationArgs args, JobContext context)
    {
        var ct = context.CancellationToken;
        if (!SafetyEscalation.ShouldEscalate(args.Categories, args.Signals))
        {
            return;
        }
        await using var conn = await db.OpenForTenantAsync(args.TenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var contacts = await SafetyContacts.ListAsync(conn, tx, args.TenantId, ct);
        var payload = JsonSerializer.SerializeToElement(new Dictionary<string, object>
        {
            ["title"] = "A check-in needs attention now",
            ["body"] = $"A text was flagged ({string.Join(", ", args.Categories)}). Open the safety review queue to read it and act.",
            ["flagId"] = args.FlagId,
            ["categories"] = args.Categories,
        });
        var ids = new List<long>();
        foreach (var contact in contacts)
        {
            var result = await outbox.EnqueueAsync(tx, new Notification(args.TenantId, contact, $"safety-flag:{args.FlagId:D}", SafetyEscalation.Type, payload), ct);
            ids.Add(result.OutboxId);
        }
        await using (var audit = new NpgsqlCommand("""
            INSERT INTO ops.safety_escalations (tenant_id, flag_id, categories, signals, contacts, outbox_ids) VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (tenant_id, flag_id) DO NOTHING
            """, conn, tx))
        {
            audit.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = args.TenantId });
            audit.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = args.FlagId });
            audit.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = args.Categories });
            audit.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = args.Signals });
            audit.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. contacts] });
            audit.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. ids] });
            await audit.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        if (contacts.Count == 0)
        {
            LogNoContacts(logger, args.TenantId, args.FlagId);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Safety flag {FlagId} of tenant {TenantId} should be escalated but the tenant has no safety contacts")]
    private static partial void LogNoContacts(ILogger logger, Guid tenantId, Guid flagId);
}
