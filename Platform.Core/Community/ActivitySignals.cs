using System.Text.Json;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Community.Algorithms;

namespace Platform.Core.Community;

/// <summary>
/// Reads conversation activities the extraction has not seen (per conversation, by seq) and stores the signals
/// they imply, so a tenant that only uses messaging still gets champions and pulse:
/// every message → <c>message</c> (with its sentiment; the text itself is not kept);
/// <c>replyToId</c> → <c>reply</c> to the parent's author (with the reply latency);
/// an entity <c>{type: "mention", mentioned: {id}}</c> → <c>mention</c>;
/// an <c>event</c> named <c>reaction</c> with <c>replyToId</c> → <c>reaction</c> to the parent's author.
/// Each signal's sourceRef is derived from the activity id, and the cursor moves in the same transaction,
/// so a re-run stores nothing twice.
/// </summary>
public sealed partial class ActivitySignals(NpgsqlDataSource dataSource, ILogger<ActivitySignals> logger)
{
    public async Task<int> ExtractAsync(int maxConversations, CancellationToken ct = default)
    {
        var pending = new List<(Guid Conversation, Guid Tenant, long From)>();
        // The scan finds work across all tenants; each conversation is then read in its own tenant's scope.
        await using (var cmd = await dataSource.CreateSystemCommandAsync("worker scan for unread activities of every tenant", """
            SELECT v.id, v.tenant_id, coalesce(c.last_seq, 0) FROM core.conversations v
            LEFT JOIN community.activity_cursors c ON c.conversation_id = v.id
            WHERE v.last_seq > coalesce(c.last_seq, 0) LIMIT $1
            """, ct))
        {
            cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = maxConversations });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                pending.Add((r.GetGuid(0), r.GetGuid(1), r.GetInt64(2)));
            }
        }
        var total = 0;
        foreach (var (conversation, tenant, from) in pending)
        {
            total += await ExtractConversationAsync(conversation, tenant, from, ct);
        }
        if (total > 0)
        {
            LogExtracted(logger, total, pending.Count);
        }
        return total;
    }

    private async Task<int> ExtractConversationAsync(Guid conversationId, Guid tenantId, long fromSeq, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var batch = new List<SignalRecord>();
        long last = fromSeq;
        await using (var cmd = new NpgsqlCommand("""
            SELECT a.seq, a.id, a.type, a.from_id, a.text, a.entities::text, a.reply_to_id, a.name, a.created_at, p.from_id, p.created_at
            FROM core.activities a LEFT JOIN core.activities p ON p.id = a.reply_to_id AND p.conversation_id = a.conversation_id
            WHERE a.conversation_id = $1 AND a.seq > $2 ORDER BY a.seq LIMIT 5000
            """, conn, tx))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conversationId });
            cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = fromSeq });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                last = r.GetInt64(0);
                var id = r.GetString(1);
                var type = r.GetString(2);
                var actor = r.GetString(3);
                var at = r.GetFieldValue<DateTimeOffset>(8);
                var parentAuthor = r.IsDBNull(9) ? null : r.GetString(9);
                var parentAt = r.IsDBNull(10) ? (DateTimeOffset?)null : r.GetFieldValue<DateTimeOffset>(10);
                if (type == "event")
                {
                    if (!r.IsDBNull(7) && r.GetString(7) == "reaction" && parentAuthor is not null && parentAuthor != actor)
                    {
                        batch.Add(new SignalRecord("reaction", actor, parentAuthor, null, at, null, $"activity:{id}:reaction"));
                    }
                    continue;
                }
                double? sentiment = r.IsDBNull(4) || string.IsNullOrWhiteSpace(r.GetString(4)) ? null : SentimentScorer.Score(r.GetString(4)).Compound;
                if (parentAuthor is not null && parentAuthor != actor)
                {
                    batch.Add(new SignalRecord("reply", actor, parentAuthor, null, at, null, $"activity:{id}:reply", sentiment,
                        parentAt is { } p ? Math.Max(0, (at - p).TotalSeconds) : null));
                }
                else
                {
                    batch.Add(new SignalRecord("message", actor, null, null, at, null, $"activity:{id}:message", sentiment));
                }
                if (!r.IsDBNull(5))
                {
                    var n = 0;
                    foreach (var mentioned in Mentions(r.GetString(5)))
                    {
                        if (mentioned != actor)
                        {
                            batch.Add(new SignalRecord("mention", actor, mentioned, null, at, null, $"activity:{id}:mention:{n++}"));
                        }
                    }
                }
            }
        }
        var stored = 0;
        for (var i = 0; i < batch.Count; i += Signals.MaxBatch)
        {
            stored += await Signals.AppendAsync(conn, tx, tenantId, batch.GetRange(i, Math.Min(Signals.MaxBatch, batch.Count - i)), ct);
        }
        await using (var cursor = new NpgsqlCommand("""
            INSERT INTO community.activity_cursors (conversation_id, tenant_id, last_seq) VALUES ($1, $2, $3)
            ON CONFLICT (conversation_id) DO UPDATE SET last_seq = greatest(community.activity_cursors.last_seq, EXCLUDED.last_seq)
            """, conn, tx))
        {
            cursor.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conversationId });
            cursor.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            cursor.Parameters.Add(new NpgsqlParameter<long> { TypedValue = last });
            await cursor.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return stored;
    }

    private static IEnumerable<string> Mentions(string entitiesJson)
    {
        using var doc = JsonDocument.Parse(entitiesJson);
        if (doc.RootElement.ValueKind != JsonValueKind.Array) yield break;
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == "mention" &&
                e.TryGetProperty("mentioned", out var m) && m.ValueKind == JsonValueKind.Object && m.TryGetProperty("id", out var mid) &&
                mid.ValueKind == JsonValueKind.String && !string.IsNullOrEmpty(mid.GetString()))
            {
                yield return mid.GetString()!;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Extracted {Signals} signals from {Conversations} conversations")]
    private static partial void LogExtracted(ILogger logger, int signals, int conversations);
}
