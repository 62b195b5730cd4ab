using System.Text;
using Npgsql;
using NpgsqlTypes;
using Platform.Core.Data;

namespace Platform.Core.Admin;

/// <summary>Conversations across tenants and the activities of one, paged both ways.</summary>
public static partial class AdminReads
{
    /// <summary>
    /// A tenant's conversations, newest first. The activity count is <c>last_seq</c>: seq is contiguous from 1
    /// and only stored activities get one, so no count over the activity log is needed.
    /// </summary>
    public static async Task<Page<ConversationRow>> ConversationsAsync(
        NpgsqlDataSource db, Guid tenantId, Guid? channelId, string? status, string? cursor, int limit, CancellationToken ct)
    {
        var after = PageCursor.Decode(cursor);
        await using var cmd = await db.CreateSystemCommandAsync(OperatorScope, ConversationSelect + """

            WHERE c.tenant_id = $1
              AND ($4::uuid IS NULL OR c.channel_id = $4)
              AND ($5::text IS NULL OR c.status = $5)
              AND ($2::timestamptz IS NULL OR (c.created_at, c.id) < ($2, $3))
            ORDER BY c.created_at DESC, c.id DESC
            LIMIT $6
            """, ct);
        cmd.Parameters.Add(new() { Value = tenantId });
        AddCursor(cmd, after);
        cmd.Parameters.Add(new() { Value = (object?)channelId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        cmd.Parameters.Add(new() { Value = (object?)status ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = limit + 1 });
        var rows = new List<ConversationRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(ReadConversation(reader));
        }
        return ToPage(rows, limit, r => new PageCursor(r.CreatedAt, r.Id));
    }

    public static async Task<ConversationRow?> ConversationAsync(NpgsqlDataSource db, Guid id, CancellationToken ct)
    {
        await using var cmd = await db.CreateSystemCommandAsync(OperatorScope, ConversationSelect + "\nWHERE c.id = $1", ct);
        cmd.Parameters.Add(new() { Value = id });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? ReadConversation(reader) : null;
    }

    /// <summary>
    /// A window of a conversation's activities in seq order: those after <paramref name="after"/> (tailing), or
    /// else the newest ones before <paramref name="before"/> (default: the end of the conversation).
    /// </summary>
    public static async Task<ActivitiesPage?> ActivitiesAsync(NpgsqlDataSource db, Guid conversationId, long? after, long? before, int limit, CancellationToken ct)
    {
        await using var conn = await db.OpenSystemScopeAsync(OperatorScope, ct);
        long lastSeq;
        await using (var head = new NpgsqlCommand("SELECT last_seq FROM core.conversations WHERE id = $1", conn))
        {
            head.Parameters.Add(new() { Value = conversationId });
            if (await head.ExecuteScalarAsync(ct) is not long seq)
            {
                return null;
            }
            lastSeq = seq;
        }
        var forward = after is not null;
        await using var cmd = new NpgsqlCommand(forward
            ? """
              SELECT id, seq, type, from_id, from_name, text, name, COALESCE(jsonb_array_length(attachments), 0), reply_to_id, created_at
              FROM core.activities WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3
              """
            : """
              SELECT id, seq, type, from_id, from_name, text, name, COALESCE(jsonb_array_length(attachments), 0), reply_to_id, created_at
              FROM core.activities WHERE conversation_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3
              """, conn);
        cmd.Parameters.Add(new() { Value = conversationId });
        cmd.Parameters.Add(new() { Value = forward ? after!.Value : before ?? long.MaxValue });
        cmd.Parameters.Add(new() { Value = limit });
        var rows = new List<ActivityRow>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                rows.Add(new ActivityRow(reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3),
                    reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5),
                    reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetInt32(7),
                    reader.IsDBNull(8) ? null : reader.GetString(8), reader.GetDateTime(9)));
            }
        }
        if (!forward)
        {
            rows.Reverse();
        }
        return new ActivitiesPage(rows, lastSeq);
    }
}
