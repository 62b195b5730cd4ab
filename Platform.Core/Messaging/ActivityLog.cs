using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Platform.Core.Data;
using StackExchange.Redis;

namespace Platform.Core.Messaging;

public enum AppendOutcome
{
    /// <summary>Stored with the next seq and published.</summary>
    Created,
    /// <summary>The clientActivityId was seen before: the original activity, nothing stored.</summary>
    Duplicate,
    /// <summary>Typing: published only.</summary>
    Published,
    NotFound,
    ChannelInactive,
    Closed,
}

public sealed record AppendResult(AppendOutcome Outcome, Activity? Activity)
{
    /// <summary>When the append committed (Created only); the doorbell carries it for end-to-end latency.</summary>
    public DateTimeOffset CommittedAt { get; init; }
}

/// <summary>
/// The ordered, append-only history of every conversation. The hot path is raw Npgsql: one batch, one round trip,
/// one implicit transaction bumps <c>conversations.last_seq</c> (the row lock serialises posters, so seq has no gap
/// and no duplicate) and inserts the activity; only after the commit is a <see cref="Doorbell"/> published.
/// </summary>
public sealed partial class ActivityLog(NpgsqlDataSource dataSource, IConnectionMultiplexer redis, TimeProvider time, ILogger<ActivityLog> logger)
{
    public static readonly ActivitySource Source = new("Platform.Messaging");
    private static readonly Meter Meter = new("Platform.Messaging");
    private static readonly Counter<long> Appended = Meter.CreateCounter<long>("platform.activities.appended", "{activity}", "Activities stored");
    private static readonly Counter<long> PublishFailures = Meter.CreateCounter<long>("platform.activities.publish_failures", "{doorbell}",
        "Doorbells Redis did not accept (the stream catches up from PostgreSQL)");

    /// <summary>The unique index on (conversation_id, client_activity_id): a violation of it is a retry.</summary>
    private const string ClientActivityIdIndex = "activities_client_id";

    // The channel must be active and (for a channel secret) the caller's; closed conversations take no posts.
    // A retried clientActivityId violates activities_client_id, which fails the batch and so returns the seq it took.
    private const string AppendSql = """
        WITH bumped AS (
            UPDATE core.conversations v SET last_seq = v.last_seq + 1, updated_at = now()
            WHERE v.id = $1 AND v.tenant_id = $2 AND v.status = 'active'
              AND ($3::uuid IS NULL OR v.channel_id = $3)
              AND EXISTS (SELECT 1 FROM core.channels c WHERE c.tenant_id = v.tenant_id AND c.id = v.channel_id AND c.status = 'active')
            RETURNING v.last_seq)
        INSERT INTO core.activities (conversation_id, seq, tenant_id, id, type, from_id, from_name, text, attachments,
                                     entities, reply_to_id, name, value, channel_data, client_activity_id)
        SELECT $1, b.last_seq, $2, $4 || b.last_seq::text, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15 FROM bumped b
        RETURNING seq, id, created_at
        """;

    private const string Columns =
        "id, seq, type, text, attachments::text, from_id, from_name, created_at, client_activity_id, reply_to_id, entities::text, name, value::text, channel_data::text";

    /// <param name="channelScope">A channel secret's channel: conversations of other channels are not found.</param>
    public async Task<AppendResult> AppendAsync(Guid tenantId, Guid conversationId, Guid? channelScope, ActivityContent content, CancellationToken ct = default)
    {
        using var trace = Source.StartActivity("activity append");
        trace?.SetTag("platform.conversation.id", conversationId);

        if (content.Type == ActivityTypes.Typing)
        {
            return await PublishTypingAsync(tenantId, conversationId, channelScope, content, ct);
        }

        AppendResult? result = null;
        // The tenant scope is set by the append's own batch (TenantScope.ForTenantCommand), not by a round trip of its own.
        await using (var conn = await dataSource.OpenConnectionAsync(ct))
        {
            // A refusal is explained by a second read; if the conversation changed in between (a channel reactivated),
            // the explanation finds nothing wrong and the append is simply tried again.
            for (var attempt = 1; result is null; attempt++)
            {
                if (attempt > 3)
                {
                    throw new InvalidOperationException($"Append to conversation {conversationId} was refused for no lasting reason three times.");
                }
                result = await TryAppendAsync(conn, tenantId, conversationId, channelScope, content, ct);
            }
        }
        // Published only after the commit, and after the connection is back in the pool.
        if (result.Outcome == AppendOutcome.Created)
        {
            await PublishAsync(tenantId, new Doorbell(result.Activity!.Seq, result.Activity, result.CommittedAt.ToUnixTimeMilliseconds(), CurrentTraceParent()));
        }
        return result;
    }

    private async Task<AppendResult?> TryAppendAsync(NpgsqlConnection conn, Guid tenantId, Guid conversationId, Guid? channelScope,
        ActivityContent content, CancellationToken ct)
    {
        // No explicit transaction: the batch is one implicit transaction that commits at its Sync, so the append
        // costs one round trip. A retried clientActivityId fails the insert on the unique index, which rolls the
        // whole batch back, the bumped last_seq included, so the retry leaves no gap.
        await using (var batch = new NpgsqlBatch(conn))
        {
            batch.BatchCommands.Add(TenantScope.ForTenantCommand(tenantId));
            var cmd = new NpgsqlBatchCommand(AppendSql);
            batch.BatchCommands.Add(cmd);
            var p = cmd.Parameters;
            p.Add(new NpgsqlParameter<Guid> { TypedValue = conversationId });
            p.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            p.Add(new NpgsqlParameter { Value = (object?)channelScope ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
            p.Add(new NpgsqlParameter<string> { TypedValue = ActivityIdPrefix(conversationId) });
            p.Add(new NpgsqlParameter<string> { TypedValue = content.Type });
            p.Add(new NpgsqlParameter<string> { TypedValue = content.From.Id });
            p.Add(Text(content.From.Name));
            p.Add(Text(content.Text));
            p.Add(Json(content.Attachments is null ? null : JsonSerializer.Serialize(content.Attachments, StorageJsonContext.Default.IReadOnlyListAttachment), NpgsqlDbType.Jsonb));
            p.Add(Json(Minified(content.Entities), NpgsqlDbType.Jsonb));
            p.Add(Text(content.ReplyToId));
            p.Add(Text(content.Name));
            p.Add(Json(Minified(content.Value), NpgsqlDbType.Json));
            p.Add(Json(Minified(content.ChannelData), NpgsqlDbType.Json));
            p.Add(Text(content.ClientActivityId));

            long seq = 0;
            string? id = null;
            DateTimeOffset timestamp = default;
            try
            {
                await using var reader = await batch.ExecuteReaderAsync(ct);
                await reader.NextResultAsync(ct); // past the scope statement's row
                if (await reader.ReadAsync(ct))
                {
                    seq = reader.GetInt64(0);
                    id = reader.GetString(1);
                    timestamp = reader.GetFieldValue<DateTimeOffset>(2);
                }
                // Read to the end of the batch: the commit happens at its Sync, and a failed commit surfaces here,
                // before anyone is told the activity exists.
                while (await reader.NextResultAsync(ct))
                {
                }
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && ex.ConstraintName == ClientActivityIdIndex)
            {
                id = null;
            }
            if (id is not null)
            {
                var committedAt = time.GetUtcNow();
                Appended.Add(1);
                var activity = new Activity(id, seq, conversationId, content.Type, content.Text, content.Attachments, content.From, timestamp,
                    content.ClientActivityId, content.ReplyToId, content.Entities, content.Name, content.Value, content.ChannelData);
                return new AppendResult(AppendOutcome.Created, activity) { CommittedAt = committedAt };
            }
        }
        // The failed or empty batch left no scope behind (a rolled-back set_config is undone): the explanation sets its own.
        await TenantScope.SetTenantAsync(conn, tenantId, ct);
        return await ExplainRefusalAsync(conn, tenantId, conversationId, channelScope, content.ClientActivityId, ct);
    }

    /// <summary>Why the append statement produced no row: unknown conversation, inactive channel, closed, or a retry.</summary>
    private static async Task<AppendResult?> ExplainRefusalAsync(NpgsqlConnection conn, Guid tenantId, Guid conversationId, Guid? channelScope,
        string? clientActivityId, CancellationToken ct)
    {
        var state = await ConversationStateAsync(conn, tenantId, conversationId, channelScope, ct);
        if (state is null)
        {
            return new AppendResult(AppendOutcome.NotFound, null);
        }
        if (clientActivityId is not null)
        {
            await using var cmd = new NpgsqlCommand(
                $"SELECT {Columns} FROM core.activities WHERE conversation_id = $1 AND tenant_id = $2 AND client_activity_id = $3", conn);
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conversationId });
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = clientActivityId });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct))
            {
                return new AppendResult(AppendOutcome.Duplicate, ReadActivity(reader, conversationId));
            }
        }
        return state.Value switch
        {
            { ChannelActive: false } => new AppendResult(AppendOutcome.ChannelInactive, null),
            { Closed: true } => new AppendResult(AppendOutcome.Closed, null),
            // Only reachable if the conversation changed between the two statements: try again.
            _ => null,
        };
    }

    private async Task<AppendResult> PublishTypingAsync(Guid tenantId, Guid conversationId, Guid? channelScope, ActivityContent content, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        var state = await ConversationStateAsync(conn, tenantId, conversationId, channelScope, ct);
        if (state is not { } s)
        {
            return new AppendResult(AppendOutcome.NotFound, null);
        }
        if (!s.ChannelActive)
        {
            return new AppendResult(AppendOutcome.ChannelInactive, null);
        }
        if (s.Closed)
        {
            return new AppendResult(AppendOutcome.Closed, null);
        }
        var now = time.GetUtcNow();
        // Typing is ephemeral: a random id lets clients tell two indications apart, and there is no seq.
        var activity = new Activity("typing-" + Security.Credentials.Base64Url(Guid.NewGuid().ToByteArray()), null, conversationId, ActivityTypes.Typing,
            content.Text, content.Attachments, content.From, now, content.ClientActivityId, content.ReplyToId, content.Entities, content.Name,
            content.Value, content.ChannelData);
        await PublishAsync(tenantId, new Doorbell(null, activity, now.ToUnixTimeMilliseconds(), CurrentTraceParent()));
        return new AppendResult(AppendOutcome.Published, activity);
    }

    private readonly record struct ConversationState(bool Closed, bool ChannelActive);

    private static async Task<ConversationState?> ConversationStateAsync(NpgsqlConnection conn, Guid tenantId, Guid conversationId, Guid? channelScope,
        CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT v.status = 'closed', c.status = 'active'
            FROM core.conversations v JOIN core.channels c ON c.tenant_id = v.tenant_id AND c.id = v.channel_id
            WHERE v.id = $1 AND v.tenant_id = $2 AND ($3::uuid IS NULL OR v.channel_id = $3)
            """, conn);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conversationId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)channelScope ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? new ConversationState(reader.GetBoolean(0), reader.GetBoolean(1)) : null;
    }

    /// <summary>
    /// Activities with <c>seq &gt; afterSeq</c> in seq order, at most <paramref name="limit"/>. Shared by REST
    /// paging and the Realtime replay, so both see the same activities in the same shape. The caller has already
    /// checked that the conversation is the caller's; the tenant filter here is the second wall.
    /// </summary>
    public async Task<IReadOnlyList<Activity>> ReadAsync(Guid tenantId, Guid conversationId, long afterSeq, int limit, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId,
            $"SELECT {Columns} FROM core.activities WHERE conversation_id = $1 AND tenant_id = $2 AND seq > $3 ORDER BY seq LIMIT $4", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conversationId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = afterSeq });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        var list = new List<Activity>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            list.Add(ReadActivity(reader, conversationId));
        }
        return list;
    }

    private static Activity ReadActivity(NpgsqlDataReader r, Guid conversationId) => new(
        r.GetString(0),
        r.GetInt64(1),
        conversationId,
        r.GetString(2),
        r.IsDBNull(3) ? null : r.GetString(3),
        r.IsDBNull(4) ? null : JsonSerializer.Deserialize(r.GetString(4), StorageJsonContext.Default.IReadOnlyListAttachment),
        new ChannelAccount(r.GetString(5), r.IsDBNull(6) ? null : r.GetString(6)),
        r.GetFieldValue<DateTimeOffset>(7),
        r.IsDBNull(8) ? null : r.GetString(8),
        r.IsDBNull(9) ? null : r.GetString(9),
        Element(r, 10),
        r.IsDBNull(11) ? null : r.GetString(11),
        Element(r, 12),
        Element(r, 13));

    private static JsonElement? Element(NpgsqlDataReader r, int ordinal) =>
        r.IsDBNull(ordinal) ? null : JsonElement.Parse(r.GetString(ordinal));

    private async Task PublishAsync(Guid tenantId, Doorbell doorbell)
    {
        var channel = Doorbell.Channel(tenantId, doorbell.Activity.ConversationId);
        try
        {
            await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(channel), doorbell.ToUtf8Json());
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // The activity is committed; stream nodes find it by their gap and idle checks. Only typing is lost.
            PublishFailures.Add(1);
            LogPublishFailed(logger, channel, ex.Message);
        }
    }

    /// <summary>The current span as a W3C traceparent (only when it is recorded, so unsampled posts add nothing).</summary>
    private static string? CurrentTraceParent() =>
        System.Diagnostics.Activity.Current is { Recorded: true } current ? current.Id : null;

    /// <summary>Activity ids are <c>{conversationId:N}-{seq}</c>: URL-safe, unique, and readable in logs.</summary>
    public static string ActivityIdPrefix(Guid conversationId) => conversationId.ToString("N") + "-";

    private static NpgsqlParameter Text(string? value) =>
        new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    private static NpgsqlParameter Json(string? value, NpgsqlDbType type) =>
        new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = type };

    /// <summary>The writer's compact form, which is also what a later read re-serialises to, so REST and stream agree.</summary>
    private static string? Minified(JsonElement? element) => element is { } e ? JsonSerializer.Serialize(e, StorageJsonContext.Default.JsonElement) : null;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Doorbell on {Channel} not published ({Reason}); stream nodes will catch up from PostgreSQL")]
    private static partial void LogPublishFailed(ILogger logger, string channel, string reason);
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(IReadOnlyList<Attachment>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(JsonElement))]
internal sealed partial class StorageJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
