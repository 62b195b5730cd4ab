using Npgsql;
using Platform.Core.Data;
using NpgsqlTypes;
using Platform.Core.Community.Algorithms;

namespace Platform.Core.Community;

/// <summary>One interaction signal as a tenant (or the activity extraction) reports it.</summary>
public sealed record SignalRecord(string Kind, string ActorId, string? TargetId, string? Team, DateTimeOffset OccurredAt, double? Weight,
    string? SourceRef, double? Sentiment = null, double? LatencySeconds = null);

public static class SignalKinds
{
    public static readonly IReadOnlyDictionary<string, SignalKind> ByName = new Dictionary<string, SignalKind>(StringComparer.Ordinal)
    {
        ["message"] = SignalKind.Message, ["reply"] = SignalKind.Reply, ["mention"] = SignalKind.Mention, ["reaction"] = SignalKind.Reaction,
        ["endorsement"] = SignalKind.Endorsement, ["event_attendance"] = SignalKind.EventAttendance, ["learning_log"] = SignalKind.LearningLog,
    };

    /// <summary>Kinds that are about a relation and need a target.</summary>
    public static bool NeedsTarget(string kind) => kind is "reply" or "mention" or "reaction" or "endorsement";
}

/// <summary>Stores signals in batches; a repeated <c>sourceRef</c> stores nothing (idempotent retries and re-extraction).</summary>
public sealed class Signals(NpgsqlDataSource dataSource)
{
    public const int MaxBatch = 1000;

    /// <returns>How many were stored; the rest had a sourceRef already stored.</returns>
    public async Task<int> AppendAsync(Guid tenantId, IReadOnlyList<SignalRecord> batch, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        return await AppendAsync(conn, null, tenantId, batch, ct);
    }

    public static async Task<int> AppendAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, Guid tenantId, IReadOnlyList<SignalRecord> batch, CancellationToken ct = default)
    {
        if (batch.Count == 0)
        {
            return 0;
        }
        // One statement: the batch is stored whole or not at all.
        await using var cmd = new NpgsqlCommand("""
            INSERT INTO community.signals (tenant_id, kind, actor_id, target_id, team, occurred_at, weight, source_ref, sentiment, latency_seconds)
            SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::float8[], $8::text[], $9::float8[], $10::float8[])
            ON CONFLICT (tenant_id, source_ref) WHERE source_ref IS NOT NULL DO NOTHING
            """, conn, tx);
        var p = cmd.Parameters;
        p.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        p.Add(new NpgsqlParameter<string[]> { TypedValue = [.. batch.Select(s => s.Kind)] });
        p.Add(new NpgsqlParameter<string[]> { TypedValue = [.. batch.Select(s => s.ActorId)] });
        p.Add(new NpgsqlParameter<string?[]> { TypedValue = [.. batch.Select(s => s.TargetId)] });
        p.Add(new NpgsqlParameter<string?[]> { TypedValue = [.. batch.Select(s => s.Team)] });
        p.Add(new NpgsqlParameter<DateTimeOffset[]> { TypedValue = [.. batch.Select(s => s.OccurredAt.ToUniversalTime())] });
        p.Add(new NpgsqlParameter<double?[]> { TypedValue = [.. batch.Select(s => s.Weight)] });
        p.Add(new NpgsqlParameter<string?[]> { TypedValue = [.. batch.Select(s => s.SourceRef)] });
        p.Add(new NpgsqlParameter<double?[]> { TypedValue = [.. batch.Select(s => s.Sentiment)] });
        p.Add(new NpgsqlParameter<double?[]> { TypedValue = [.. batch.Select(s => s.LatencySeconds)] });
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Signal counts about one person, as actor and as target (for "what is stored about me").</summary>
    public async Task<IReadOnlyList<(string Kind, string Role, long Count)>> CountsOfAsync(Guid tenantId, string userId, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, """
            SELECT kind, 'actor', count(*) FROM community.signals WHERE tenant_id = $1 AND actor_id = $2 GROUP BY kind
            UNION ALL
            SELECT kind, 'target', count(*) FROM community.signals WHERE tenant_id = $1 AND target_id = $2 GROUP BY kind
            ORDER BY 1, 2
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        var list = new List<(string, string, long)>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add((r.GetString(0), r.GetString(1), r.GetInt64(2)));
        }
        return list;
    }
}
