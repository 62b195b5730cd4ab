using System.Text.Json;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Core.Governance;

namespace Platform.Core.Community;

public sealed record DiscoverEntry(string UserId, string DisplayName, string? Team, double Score, int Rank, int OverallRank,
    IReadOnlyDictionary<string, double> Components, IReadOnlyList<RankingReasonView> Why);

public sealed record DiscoverCounts(int Members, int Signals, int ExcludedWithoutConsent);

public sealed record DiscoverResult(string Kind, string? Team, bool Stale, Guid? RankingId, IReadOnlyList<DiscoverEntry> Entries, DiscoverCounts? Counts,
    bool? BetweennessExact, double? BetweennessErrorBound95, ProvenanceRef? Provenance, Guid? ReadEventId);

/// <summary>Who asks for a champion or connector list, and which team they may see.</summary>
/// <param name="ScopeTeam">Resolves the team the caller is limited to (a team lead: their own, read from the directory); Forbidden when they ask for another.</param>
/// <param name="MayReadStale">Whether the caller may get the cached ranking when PostgreSQL is down (its team scope cannot be read then).</param>
public sealed record DiscoverRequest(Guid TenantId, string Actor, string Kind, string? Team, int Limit,
    Func<CancellationToken, Task<(string? Team, bool Forbidden)>> ScopeTeam, bool MayReadStale);

/// <summary>A list, or why there is none: the caller may not see the team, or the data is unavailable.</summary>
public sealed record DiscoverAnswer(DiscoverResult? Result, bool Forbidden = false, string? Unavailable = null);

/// <summary>
/// The champion and connector lists people read: the latest ranking, narrowed to the caller's team and to members who
/// consent to recognition at the moment of reading (a withdrawal takes effect before the next scoring run), with the
/// reasons of anyone without consent left unnamed, and each read appended to the provenance chain. When PostgreSQL is
/// unavailable the last good ranking is served from Redis, marked stale: its lists were consent-filtered when computed.
/// </summary>
public sealed partial class ChampionDiscovery(ChampionScoring scoring, Consents consents, ProvenanceLedger ledger, ILogger<ChampionDiscovery> logger)
{
    public async Task<DiscoverAnswer> DiscoverAsync(DiscoverRequest request, CancellationToken ct)
    {
        StoredRanking? ranking;
        HashSet<string>? granted = null;
        var stale = false;
        string? team;
        try
        {
            (team, var forbidden) = await request.ScopeTeam(ct);
            if (forbidden) return new DiscoverAnswer(null, Forbidden: true);
            ranking = await scoring.LatestAsync(request.TenantId, ct);
            if (ranking is not null)
            {
                granted = await consents.GrantedAsync(request.TenantId, ConsentPurposes.Recognition,
                    [.. List(ranking, request.Kind).Select(e => e.UserId)], ct);
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            LogServingStale(logger, request.TenantId, ex.Message);
            if (!request.MayReadStale) return new DiscoverAnswer(null, Unavailable: "The database is unavailable; try again shortly.");
            team = request.Team;
            try
            {
                ranking = await scoring.CachedAsync(request.TenantId);
            }
            catch (StackExchange.Redis.RedisException)
            {
                ranking = null;
            }
            if (ranking is null) return new DiscoverAnswer(null, Unavailable: "The database is unavailable and no ranking is cached.");
            stale = true;
        }
        if (ranking is null)
        {
            return new DiscoverAnswer(new DiscoverResult(request.Kind, team, false, null, [], null, null, null, null, null));
        }
        var entries = List(ranking, request.Kind)
            .Where(e => (team is null || e.Team == team) && (granted is null || granted.Contains(e.UserId)))
            .Take(request.Limit)
            .Select((e, i) => new DiscoverEntry(e.UserId, e.DisplayName, e.Team, e.Score, i + 1, e.Rank, e.Components,
                [.. e.Why.Select(w => w.UserId is null || granted is null || granted.Contains(w.UserId) ? w : w with { UserId = null })]))
            .ToList();
        Guid? readEvent = null;
        if (!stale)
        {
            var e = await ledger.AppendAsync(request.TenantId, new ProvenanceEntry(ProvenanceActions.RankingRead, request.Actor, null,
                ChampionScoring.Algorithm, ranking.Version, JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["rankingId"] = ranking.Id, ["kind"] = request.Kind, ["team"] = team, ["returned"] = entries.Select(x => x.UserId).ToArray(),
                })), ct);
            readEvent = e.Id;
        }
        return new DiscoverAnswer(new DiscoverResult(request.Kind, team, stale, ranking.Id, entries,
            new DiscoverCounts(ranking.Members, ranking.Signals, ranking.Excluded), ranking.BetweennessExact, ranking.BetweennessErrorBound95,
            ranking.Provenance, readEvent));
    }

    private static IReadOnlyList<RankingEntry> List(StoredRanking ranking, string kind) => kind == "champion" ? ranking.Champions : ranking.Connectors;

    [LoggerMessage(Level = LogLevel.Warning, Message = "PostgreSQL unavailable for tenant {TenantId}; serving the cached ranking: {Reason}")]
    private static partial void LogServingStale(ILogger logger, Guid tenantId, string reason);
}
