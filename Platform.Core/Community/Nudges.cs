using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Platform.Core.Data;
using Platform.Core.Governance;
using Platform.Core.Jobs;
using Platform.Core.Notifications;

namespace Platform.Core.Community;

/// <summary>What an approved nudge does: send its message to the subject, or open a collaboration space.</summary>
public static class NudgeActions
{
    public const string Message = "message";
    public const string CollaborationSpace = "collaboration_space";
    public static readonly IReadOnlyList<string> All = [Message, CollaborationSpace];
}

/// <summary>
/// A nudge approval's payload. <c>message</c>: <c>{action: "message", message}</c> goes to the subject.
/// <c>collaboration_space</c>: <c>{action, title, channelId, members, message?}</c> opens a conversation in the channel for
/// the subject and the invited members and tells each of them.
/// </summary>
public sealed record NudgePayload(string Action, string? Message, string? Title, Guid? ChannelId, IReadOnlyList<string> Members)
{
    public const int MaxMessage = 2000, MaxTitle = 200, MaxMembers = 50;

    /// <summary>The payload, or the errors naming its fields (<c>payload.message</c>, <c>payload.members[2]</c>).</summary>
    public static (NudgePayload? Payload, Dictionary<string, string[]> Errors) Parse(JsonElement payload)
    {
        var errors = new Dictionary<string, string[]>();
        if (payload.ValueKind != JsonValueKind.Object)
        {
            errors["payload"] = ["A nudge needs a payload object: {action, message} or {action: \"collaboration_space\", title, channelId, members}."];
            return (null, errors);
        }
        string? Str(string name) => payload.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        // Nudges recorded before actions existed carried their message as "text".
        var action = Str("action") ?? NudgeActions.Message;
        var message = Str("message") ?? Str("text");
        var title = Str("title");
        if (!NudgeActions.All.Contains(action))
        {
            errors["payload.action"] = [$"action must be one of {string.Join(", ", NudgeActions.All)}."];
            return (null, errors);
        }
        if (action == NudgeActions.Message && string.IsNullOrWhiteSpace(message))
        {
            errors["payload.message"] = ["A message nudge needs its message (1–2000 characters)."];
        }
        if (message is { Length: > MaxMessage })
        {
            errors["payload.message"] = [$"message is at most {MaxMessage} characters."];
        }
        Guid? channelId = null;
        var members = new List<string>();
        if (action == NudgeActions.CollaborationSpace)
        {
            if (string.IsNullOrWhiteSpace(title) || title.Length > MaxTitle)
            {
                errors["payload.title"] = [$"A collaboration space needs a title (1–{MaxTitle} characters)."];
            }
            if (Guid.TryParse(Str("channelId"), out var channel))
            {
                channelId = channel;
            }
            else
            {
                errors["payload.channelId"] = ["A collaboration space needs channelId: the channel its conversation opens in."];
            }
            if (!payload.TryGetProperty("members", out var list) || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() is 0 or > MaxMembers)
            {
                errors["payload.members"] = [$"members is a list of 1–{MaxMembers} member user ids to invite."];
            }
            else
            {
                var i = 0;
                foreach (var m in list.EnumerateArray())
                {
                    if (m.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(m.GetString()) || m.GetString()!.Length > 256)
                    {
                        errors[$"payload.members[{i}]"] = ["A member is a user id of 1–256 characters."];
                    }
                    else
                    {
                        members.Add(m.GetString()!);
                    }
                    i++;
                }
            }
        }
        return errors.Count > 0 ? (null, errors)
            : (new NudgePayload(action, message?.Trim(), title?.Trim(), channelId, [.. members.Distinct(StringComparer.Ordinal)]), errors);
    }
}

/// <summary>Carry out one approved nudge (enqueued with the approval decision, in its transaction).</summary>
public sealed record ExecuteNudgeArgs(Guid TenantId, Guid ApprovalId) : IJobArgs
{
    public static string Kind => "community.execute-nudge";
}

/// <summary>What executing a nudge did; <see cref="Status"/> is <c>sent</c>, <c>created</c> or <c>skipped</c> (with <see cref="Reason"/>).</summary>
public sealed record NudgeExecution(Guid ApprovalId, string Action, string Status, string? Reason, Guid? ConversationId, IReadOnlyList<string> Members,
    int Excluded, IReadOnlyList<long> Notifications, Guid ProvenanceEventId, DateTimeOffset ExecutedAt);

/// <summary>
/// Executes approved nudges exactly once. Everything happens in one transaction that holds the approval's row lock:
/// the execution row (primary key = approval id), the notifications (outbox, same transaction), the conversation and
/// the provenance event. A retried job, a second job for the same approval or a concurrent run finds the row and
/// returns it; nothing is sent or created twice.
/// </summary>
public sealed class Nudges(NpgsqlDataSource dataSource, NotificationOutbox notifications, Consents consents, ProvenanceLedger ledger)
{
    public const string MessageType = "community.nudge";
    public const string SpaceType = "community.collaboration-space";
    public const string Algorithm = "nudge-executor", Version = "nudge-executor/1";
    public const string ExecutedAction = "nudge.executed";

    private const string Columns = "approval_id, action, status, reason, conversation_id, members, excluded, notifications, provenance_event_id, executed_at";

    public async Task<NudgeExecution?> FindAsync(Guid tenantId, Guid approvalId, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId,
            $"SELECT {Columns} FROM community.nudge_executions WHERE tenant_id = $1 AND approval_id = $2", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = approvalId });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? Read(r) : null;
    }

    /// <summary>Executes the approved nudge, or returns what its first execution did. Null when it is not an approved nudge.</summary>
    public async Task<NudgeExecution?> ExecuteAsync(Guid tenantId, Guid approvalId, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        string subject, requestedBy, decidedBy, payloadJson;
        await using (var find = new NpgsqlCommand("""
            SELECT subject_user_id, requested_by, decided_by, payload::text FROM governance.approvals
            WHERE tenant_id = $1 AND id = $2 AND kind = 'nudge' AND status = 'approved' FOR UPDATE
            """, conn, tx))
        {
            find.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            find.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = approvalId });
            await using var r = await find.ExecuteReaderAsync(ct);
            if (!await r.ReadAsync(ct))
            {
                return null;
            }
            (subject, requestedBy, decidedBy, payloadJson) = (r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3));
        }
        // Under the approval's row lock: a concurrent execution waits here and then finds the first one's row.
        await using (var done = new NpgsqlCommand($"SELECT {Columns} FROM community.nudge_executions WHERE tenant_id = $1 AND approval_id = $2", conn, tx))
        {
            done.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            done.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = approvalId });
            await using var r = await done.ExecuteReaderAsync(ct);
            if (await r.ReadAsync(ct))
            {
                return Read(r);
            }
        }

        using var doc = JsonDocument.Parse(payloadJson);
        var (payload, _) = NudgePayload.Parse(doc.RootElement);
        var action = payload?.Action ?? NudgeActions.Message;
        string status;
        string? reason = null;
        Guid? conversationId = null;
        var members = new List<string>();
        var excluded = 0;
        var sent = new List<long>();
        // Approved by the subject, the approval is their consent; approved on their behalf (a community manager), the
        // subject must have consented to recommendations.
        var subjectConsents = decidedBy == subject || await consents.IsGrantedAsync(tenantId, subject, ConsentPurposes.Recommendations, ct);
        if (payload is null)
        {
            (status, reason) = ("skipped", "invalid-payload");
        }
        else if (!subjectConsents)
        {
            (status, reason) = ("skipped", "no-consent");
        }
        else if (payload.Action == NudgeActions.Message)
        {
            members.Add(subject);
            var body = JsonSerializer.SerializeToElement(new Dictionary<string, object?>
            {
                ["approvalId"] = approvalId, ["message"] = payload.Message, ["requestedBy"] = requestedBy,
            });
            var n = await notifications.EnqueueAsync(tx, new Notification(tenantId, subject, $"nudge:{approvalId}", MessageType, body,
                NotificationChannels.InApp | NotificationChannels.WebPush | NotificationChannels.Email), ct);
            sent.Add(n.OutboxId);
            status = "sent";
        }
        else
        {
            // Invited members are included only with their own recommendations consent; the subject is always in.
            var invited = payload.Members.Where(m => m != subject).ToList();
            var granted = await consents.GrantedAsync(tenantId, ConsentPurposes.Recommendations, invited, ct);
            members.Add(subject);
            members.AddRange(invited.Where(granted.Contains));
            excluded = invited.Count - (members.Count - 1);
            conversationId = await StartConversationAsync(conn, tx, tenantId, payload.ChannelId!.Value, ct);
            if (conversationId is null)
            {
                (status, reason) = ("skipped", "channel-unavailable");
                members.Clear();
            }
            else
            {
                var body = JsonSerializer.SerializeToElement(new Dictionary<string, object?>
                {
                    ["approvalId"] = approvalId, ["conversationId"] = conversationId, ["channelId"] = payload.ChannelId, ["title"] = payload.Title,
                    ["message"] = payload.Message, ["members"] = members, ["requestedBy"] = requestedBy,
                });
                foreach (var member in members)
                {
                    var n = await notifications.EnqueueAsync(tx, new Notification(tenantId, member, $"nudge:{approvalId}", SpaceType, body,
                        NotificationChannels.InApp | NotificationChannels.WebPush | NotificationChannels.Email), ct);
                    sent.Add(n.OutboxId);
                }
                status = "created";
            }
        }
        var e = await ledger.AppendAsync(conn, tx, tenantId, new ProvenanceEntry(ExecutedAction, Algorithm, subject, Algorithm, Version,
            JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["approvalId"] = approvalId, ["action"] = action, ["status"] = status, ["reason"] = reason, ["conversationId"] = conversationId,
                ["members"] = members, ["excludedWithoutConsent"] = excluded, ["notifications"] = sent, ["requestedBy"] = requestedBy, ["decidedBy"] = decidedBy,
            })), ct);
        NudgeExecution execution;
        await using (var insert = new NpgsqlCommand($"""
            INSERT INTO community.nudge_executions (approval_id, tenant_id, action, status, reason, conversation_id, members, excluded, notifications, provenance_event_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {Columns}
            """, conn, tx))
        {
            var p = insert.Parameters;
            p.Add(new NpgsqlParameter<Guid> { TypedValue = approvalId });
            p.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            p.Add(new NpgsqlParameter<string> { TypedValue = action });
            p.Add(new NpgsqlParameter<string> { TypedValue = status });
            p.Add(Members.Text(reason));
            p.Add(new NpgsqlParameter { Value = (object?)conversationId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
            p.Add(new NpgsqlParameter<string[]> { TypedValue = [.. members] });
            p.Add(new NpgsqlParameter<int> { TypedValue = excluded });
            p.Add(new NpgsqlParameter<long[]> { TypedValue = [.. sent] });
            p.Add(new NpgsqlParameter<Guid> { TypedValue = e.Id });
            await using var r = await insert.ExecuteReaderAsync(ct);
            await r.ReadAsync(ct);
            execution = Read(r);
        }
        await tx.CommitAsync(ct);
        return execution;
    }

    /// <summary>A new conversation in the tenant's active channel, in the caller's transaction; null when the channel is not usable.</summary>
    private static async Task<Guid?> StartConversationAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, Guid channelId, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            INSERT INTO core.conversations (id, tenant_id, channel_id)
            SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM core.channels WHERE tenant_id = $2 AND id = $3 AND status = 'active')
            RETURNING id
            """, conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = Guid.CreateVersion7() });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = channelId });
        return await cmd.ExecuteScalarAsync(ct) is Guid id ? id : null;
    }

    /// <summary>Whether the channel exists, is the tenant's and is active (checked when the nudge is requested).</summary>
    public async Task<bool> ChannelUsableAsync(Guid tenantId, Guid channelId, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId,
            "SELECT EXISTS (SELECT 1 FROM core.channels WHERE tenant_id = $1 AND id = $2 AND status = 'active')", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = channelId });
        return await cmd.ExecuteScalarAsync(ct) is true;
    }

    private static NudgeExecution Read(NpgsqlDataReader r) => new(r.GetGuid(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3),
        r.IsDBNull(4) ? null : r.GetGuid(4), r.GetFieldValue<string[]>(5), r.GetInt32(6), r.GetFieldValue<long[]>(7), r.GetGuid(8),
        r.GetFieldValue<DateTimeOffset>(9));
}
