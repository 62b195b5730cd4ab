using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Community.Algorithms;
using Platform.Core.Governance;
using StackExchange.Redis;

namespace Platform.Core.Community;

public sealed record RankingReasonView(string? UserId, string Relation, double Share);

public sealed record RankingEntry(string UserId, string DisplayName, string? Team, double Score, int Rank,
    IReadOnlyDictionary<string, double> Components, IReadOnlyList<RankingReasonView> Why);

/// <summary>One stored scoring run: both lists (consenting members only), its parameters, input hash and provenance.</summary>
public sealed record StoredRanking(Guid Id, DateTimeOffset ComputedAt, string Algorithm, string Version, string InputHash, int Members, int Signals,
    int Excluded, bool BetweennessExact, double BetweennessErrorBound95, IReadOnlyList<RankingEntry> Champions, IReadOnlyList<RankingEntry> Connectors,
    ProvenanceRef Provenance);

public sealed record ScoringSummary(Guid RankingId, int Members, int Signals, int Excluded, TimeSpan Load, TimeSpan Rank, TimeSpan Store);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(StoredRanking))]
[JsonSerializable(typeof(ChampionRankingParameters))]
public sealed partial class CommunityJsonContext : JsonSerializerContext;

/// <summary>
/// The scoring run behind champion and connector discovery: reads one window of signals and the directory,
/// ranks everyone (people without recognition consent still shape the graph, so counts and others' scores
/// include them), then drops those people from the lists and from every "why", stores the ranking with its
/// parameters and input hash, appends its provenance (the exclusions included) and caches it in Redis as the
/// last good ranking.
/// </summary>
public sealed partial class ChampionScoring(NpgsqlDataSource dataSource, ProvenanceLedger ledger, Consents consents, IConnectionMultiplexer redis,
    TimeProvider time, ILogger<ChampionScoring> logger)
{
    public const string Algorithm = "champion-ranking";

    public static string CacheKey(Guid tenantId) => $"community:{tenantId}:ranking:last-good";

    public async Task<ScoringSummary> ScoreAsync(Guid tenantId, string actor, ChampionRankingParameters? parameters = null, CancellationToken ct = default)
    {
        var p = parameters ?? new ChampionRankingParameters();
        var asOf = time.GetUtcNow();
        var clock = Stopwatch.StartNew();

        // Directory first, then everyone a signal names; dense indices in that order.
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var names = new List<string>();
        var teams = new List<string?>();
        var teamIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var teamOf = new List<int>();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        int Member(string userId, string? displayName, string? team)
        {
            if (index.TryGetValue(userId, out var i)) return i;
            i = index.Count;
            index[userId] = i;
            names.Add(displayName ?? userId);
            teams.Add(team);
            var key = team ?? "";
            if (!teamIndex.TryGetValue(key, out var t)) teamIndex[key] = t = teamIndex.Count;
            teamOf.Add(t);
            return i;
        }
        var signals = new List<InteractionSignal>();
        await using (var conn = await dataSource.OpenForTenantAsync(tenantId, ct))
        {
            await using (var cmd = new NpgsqlCommand("SELECT user_id, display_name, team FROM community.members WHERE tenant_id = $1 ORDER BY user_id", conn))
            {
                cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
                await using var r = await cmd.ExecuteReaderAsync(ct);
                while (await r.ReadAsync(ct))
                {
                    var team = r.IsDBNull(2) ? null : r.GetString(2);
                    Member(r.GetString(0), r.GetString(1), team);
                    hash.AppendData(Encoding.UTF8.GetBytes($"m|{r.GetString(0)}|{team}\n"));
                }
            }
            await using (var cmd = new NpgsqlCommand("""
                SELECT id, kind, actor_id, target_id, occurred_at, weight FROM community.signals
                WHERE tenant_id = $1 AND occurred_at > $2 AND occurred_at <= $3 AND target_id IS NOT NULL ORDER BY id
                """, conn))
            {
                cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
                cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = asOf - p.Window });
                cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = asOf });
                await using var r = await cmd.ExecuteReaderAsync(ct);
                while (await r.ReadAsync(ct))
                {
                    var kind = SignalKinds.ByName[r.GetString(1)];
                    var actorId = r.GetString(2);
                    var targetId = r.GetString(3);
                    var at = r.GetFieldValue<DateTimeOffset>(4);
                    double? weight = r.IsDBNull(5) ? null : r.GetDouble(5);
                    signals.Add(new InteractionSignal(Member(actorId, null, null), Member(targetId, null, null), kind, at, weight));
                    hash.AppendData(Encoding.UTF8.GetBytes($"s|{r.GetInt64(0)}|{r.GetString(1)}|{actorId}|{targetId}|{at.UtcTicks}|{weight}\n"));
                }
            }
        }
        var inputHash = Convert.ToHexStringLower(hash.GetHashAndReset());
        var load = clock.Elapsed;

        clock.Restart();
        var result = ChampionRanking.Rank(index.Count, [.. teamOf], signals, asOf, p);
        var rank = clock.Elapsed;

        clock.Restart();
        var userIds = new string[index.Count];
        foreach (var (id, i) in index) userIds[i] = id;
        var granted = await consents.GrantedAsync(tenantId, ConsentPurposes.Recognition, null, ct);
        var excluded = new SortedSet<string>(StringComparer.Ordinal);
        IReadOnlyList<RankingEntry> Visible(IReadOnlyList<RankedMember> list)
        {
            var entries = new List<RankingEntry>(list.Count);
            foreach (var m in list)
            {
                if (!granted.Contains(userIds[m.Member]))
                {
                    excluded.Add(userIds[m.Member]);
                    continue;
                }
                // A relation to someone without consent is kept (it explains the score) but not named.
                var why = m.Why.Select(w => new RankingReasonView(granted.Contains(userIds[w.Member]) ? userIds[w.Member] : null, w.Relation, w.Share)).ToList();
                entries.Add(new RankingEntry(userIds[m.Member], names[m.Member], teams[m.Member], m.Score, entries.Count + 1, m.Components, why));
            }
            return entries;
        }
        var champions = Visible(result.Champions);
        var connectors = Visible(result.Connectors);

        var parametersJson = JsonSerializer.Serialize(p, CommunityJsonContext.Default.ChampionRankingParameters);
        var details = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["inputHash"] = inputHash, ["members"] = result.Members, ["signals"] = result.SignalsUsed, ["ties"] = result.Ties,
            ["windowDays"] = p.Window.TotalDays, ["betweennessExact"] = result.BetweennessExact, ["betweennessErrorBound95"] = result.BetweennessErrorBound95,
            ["excluded"] = new Dictionary<string, object> { ["reason"] = "no recognition consent", ["count"] = excluded.Count, ["subjects"] = excluded.ToArray() },
        });
        var rankingId = Guid.CreateVersion7();
        StoredRanking stored;
        await using (var conn = await dataSource.OpenForTenantAsync(tenantId, ct))
        await using (var tx = await conn.BeginTransactionAsync(ct))
        {
            var e = await ledger.AppendAsync(conn, tx, tenantId,
                new ProvenanceEntry(ProvenanceActions.Ranking, actor, null, Algorithm, ChampionRanking.Version, details, asOf), ct);
            stored = new StoredRanking(rankingId, e.ComputedAt, Algorithm, ChampionRanking.Version, inputHash, result.Members, result.SignalsUsed,
                excluded.Count, result.BetweennessExact, result.BetweennessErrorBound95, champions, connectors, ProvenanceLedger.RefOf(e));
            await using var insert = new NpgsqlCommand("""
                INSERT INTO community.rankings (id, tenant_id, computed_at, algorithm, version, parameters, input_hash, members, signals, excluded,
                                                betweenness_exact, error_bound, result, provenance_event_id)
                VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12, $13::jsonb, $14)
                """, conn, tx);
            var q = insert.Parameters;
            q.Add(new NpgsqlParameter<Guid> { TypedValue = rankingId });
            q.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            q.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = e.ComputedAt });
            q.Add(new NpgsqlParameter<string> { TypedValue = Algorithm });
            q.Add(new NpgsqlParameter<string> { TypedValue = ChampionRanking.Version });
            q.Add(new NpgsqlParameter<string> { TypedValue = parametersJson });
            q.Add(new NpgsqlParameter<string> { TypedValue = inputHash });
            q.Add(new NpgsqlParameter<int> { TypedValue = result.Members });
            q.Add(new NpgsqlParameter<int> { TypedValue = result.SignalsUsed });
            q.Add(new NpgsqlParameter<int> { TypedValue = excluded.Count });
            q.Add(new NpgsqlParameter<bool> { TypedValue = result.BetweennessExact });
            q.Add(new NpgsqlParameter<double> { TypedValue = result.BetweennessErrorBound95 });
            q.Add(new NpgsqlParameter<string> { TypedValue = JsonSerializer.Serialize(stored, CommunityJsonContext.Default.StoredRanking) });
            q.Add(new NpgsqlParameter<Guid> { TypedValue = e.Id });
            await insert.ExecuteNonQueryAsync(ct);
            await tx.CommitAsync(ct);
        }
        await CacheAsync(tenantId, stored);
        var store = clock.Elapsed;
        LogScored(logger, tenantId, result.Members, result.SignalsUsed, excluded.Count, load.TotalMilliseconds, rank.TotalMilliseconds, store.TotalMilliseconds);
        return new ScoringSummary(rankingId, result.Members, result.SignalsUsed, excluded.Count, load, rank, store);
    }

    /// <summary>The latest stored ranking from PostgreSQL (null when none has run yet).</summary>
    public async Task<StoredRanking?> LatestAsync(Guid tenantId, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, "SELECT result::text FROM community.rankings WHERE tenant_id = $1 ORDER BY computed_at DESC LIMIT 1", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        return await cmd.ExecuteScalarAsync(ct) is string json ? JsonSerializer.Deserialize(json, CommunityJsonContext.Default.StoredRanking) : null;
    }

    /// <summary>The last good ranking from Redis, for when PostgreSQL is unavailable.</summary>
    public async Task<StoredRanking?> CachedAsync(Guid tenantId)
    {
        var value = await redis.GetDatabase().StringGetAsync(CacheKey(tenantId));
        return value.IsNullOrEmpty ? null : JsonSerializer.Deserialize((string)value!, CommunityJsonContext.Default.StoredRanking);
    }

    private async Task CacheAsync(Guid tenantId, StoredRanking stored)
    {
        try
        {
            await redis.GetDatabase().StringSetAsync(CacheKey(tenantId), JsonSerializer.Serialize(stored, CommunityJsonContext.Default.StoredRanking));
        }
        catch (RedisException ex)
        {
            // PostgreSQL holds the ranking; only the fallback for a PostgreSQL outage is older.
            LogCacheFailed(logger, tenantId, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Scored tenant {TenantId}: {Members} members, {Signals} signals, {Excluded} excluded without consent (load {LoadMs:F0} ms, rank {RankMs:F0} ms, store {StoreMs:F0} ms)")]
    private static partial void LogScored(ILogger logger, Guid tenantId, int members, int signals, int excluded, double loadMs, double rankMs, double storeMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not cache the ranking of tenant {TenantId} in Redis: {Reason}")]
    private static partial void LogCacheFailed(ILogger logger, Guid tenantId, string reason);
}
