using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Platform.Core.Ai;
using Platform.Core.Events.Matching;
using Platform.Core.Jobs;

namespace Platform.Core.Events;

/// <summary>A conference's attendees compiled for matching, valid for one revision of its profiles.</summary>
public sealed record CompiledConference(Guid ConferenceId, long Revision, IReadOnlyList<Attendee> Attendees, MatchingIndex Index);

/// <summary>
/// Recomputes stored top matches: the whole conference (batch), one attendee, or — <see cref="StaleOnly"/>, the
/// incremental run after profile changes — every attendee whose profile changed since their list was computed.
/// </summary>
public sealed record MatchCalculationArgs(Guid TenantId, Guid ConferenceId, string? UserId, bool StaleOnly = false) : IJobArgs
{
    public static string Kind => "events.match-calculate";
    public static string Queue => "events";
}

/// <summary>Builds one intelligence report into events.reports.</summary>
public sealed record IntelligenceReportArgs(Guid TenantId, Guid ReportId) : IJobArgs
{
    public static string Kind => "events.intelligence-report";
    public static string Queue => "events";
}

/// <summary>
/// Matchmaking over the stored profiles. The compiled index (TF-IDF over all bios, profile-text embeddings) is cached
/// per conference and revision: recommendations are answered live from it, so a profile edit or feedback counts at
/// the next call. Embeddings come from <see cref="StoredEmbeddings"/>, so only changed profile texts meet the model.
/// </summary>
public sealed partial class Matchmaking(EventsStore store, StoredEmbeddings embeddings, ILogger<Matchmaking> logger)
{
    /// <summary>Stored matches per attendee by the calculation job.</summary>
    public const int StoredMatches = 20;

    private readonly ConcurrentDictionary<Guid, Task<CompiledConference>> _cache = new();

    public async Task<CompiledConference> CompileAsync(Guid tenantId, Conference conference, CancellationToken ct)
    {
        if (_cache.TryGetValue(conference.Id, out var cached))
        {
            var hit = await cached;
            if (hit.Revision == conference.Revision)
            {
                return hit;
            }
        }
        // Reading the attendees after the revision: the cache entry can only be older than its label, never newer,
        // and a newer revision replaces it at the next call.
        var attendees = await store.ListAttendeesAsync(tenantId, conference.Id, ct);
        var profiles = attendees.Select(a => a.ToProfile()).ToList();
        // Tags, not whole profiles, are embedded: a conference has a few hundred distinct tags, each embedded once.
        var texts = await embeddings.GetAsync(tenantId, EmbeddingTable.AttendeeProfiles, profiles.SelectMany(p => p.AllTags()), ct);
        var compiled = new CompiledConference(conference.Id, conference.Revision, attendees, new MatchingIndex(profiles, ProfileEmbeddings.From(texts)));
        _cache[conference.Id] = Task.FromResult(compiled);
        LogCompiled(logger, conference.Id, conference.Revision, attendees.Count);
        return compiled;
    }

    public async Task<Recommendations?> RecommendAsync(Guid tenantId, Conference conference, string userId, int limit, CancellationToken ct)
    {
        var compiled = await CompileAsync(tenantId, conference, ct);
        if (!compiled.Index.PositionById.ContainsKey(userId))
        {
            return null;
        }
        var declined = await store.DeclinedAsync(tenantId, conference.Id, ct);
        var matches = ReciprocalMatcher.Recommend(compiled.Index, userId, conference.Weights, declined, limit);
        return new Recommendations(conference.Id, userId, ReciprocalMatcher.Version, conference.Weights.Normalised(),
            [.. matches.Select(m => ToRecommended(compiled, m))], compiled.Index.EmbeddingModel);
    }

    /// <summary>Null when either attendee is not in the conference.</summary>
    public async Task<FeedbackRecorded?> FeedbackAsync(Guid tenantId, Conference conference, string userId, string matchUserId, MatchOutcome outcome,
        CancellationToken ct)
    {
        var compiled = await CompileAsync(tenantId, conference, ct);
        if (!compiled.Index.PositionById.TryGetValue(userId, out var a) || !compiled.Index.PositionById.TryGetValue(matchUserId, out var b))
        {
            return null;
        }
        var shown = ReciprocalMatcher.Features(compiled.Index, a, b);
        return await store.RecordFeedbackAsync(tenantId, conference.Id, userId, matchUserId, outcome, shown,
            w => ReciprocalMatcher.PairScore(compiled.Index, a, b, w), ct);
    }

    /// <summary>The job's work: top matches for every attendee (or one, and those whose lists it may enter), stored.</summary>
    public async Task<int> CalculateAsync(Guid tenantId, Guid conferenceId, string? userId, CancellationToken ct, bool staleOnly = false)
    {
        // Stamped before anything is read: a profile written after this instant is stale for the next run.
        var snapshot = DateTimeOffset.UtcNow;
        var conference = await store.FindConferenceAsync(tenantId, conferenceId, ct);
        if (conference is null)
        {
            return 0;
        }
        var compiled = await CompileAsync(tenantId, conference, ct);
        var declined = await store.DeclinedAsync(tenantId, conferenceId, ct);
        var index = compiled.Index;
        IReadOnlyList<string> targets = userId is not null ? (index.PositionById.ContainsKey(userId) ? [userId] : [])
            : staleOnly ? [.. (await store.StaleAttendeesAsync(tenantId, conferenceId, ct)).Where(index.PositionById.ContainsKey)]
            : [.. compiled.Attendees.Select(a => a.UserId)];
        // Scoring is CPU-bound and independent per attendee: RecommendMany spreads it over the cores.
        var lists = ReciprocalMatcher.RecommendMany(index, targets, conference.Weights, declined, StoredMatches, ct);
        await store.ReplaceMatchesAsync(tenantId, conferenceId, targets,
            [.. lists.SelectMany((list, i) => list.Select((m, r) => (targets[i], m, r + 1)))], snapshot, ct);
        LogCalculated(logger, conferenceId, targets.Count);
        return targets.Count;
    }

    private static RecommendedMatch ToRecommended(CompiledConference c, MatchRecommendation m)
    {
        var other = c.Attendees[c.Index.PositionById[m.AttendeeId]];
        return new RecommendedMatch(m.AttendeeId, other.DisplayName, other.Company, Math.Round(m.Score, 6), Math.Round(m.ScoreForUser, 6),
            Math.Round(m.ScoreForMatch, 6), m.Reasons, m.ConversationStarter);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Compiled matching index of conference {ConferenceId} at revision {Revision}: {Count} attendees")]
    private static partial void LogCompiled(ILogger logger, Guid conferenceId, long revision, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Calculated matches of {Count} attendees in conference {ConferenceId}")]
    private static partial void LogCalculated(ILogger logger, Guid conferenceId, int count);
}
