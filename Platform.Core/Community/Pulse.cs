using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Community.Algorithms;
using Platform.Core.Governance;

namespace Platform.Core.Community;

/// <summary>
/// Community pulse per team, org or cohort over a window, against the previous window of the same length.
/// Only people with <c>pulse</c> consent are counted; a group with fewer than 5 active people (or a survey with
/// fewer than 5 respondents) is never reported on its own (k-anonymity) but pooled into <c>suppressed</c>.
/// Each component is computed on its own, so one that cannot be computed reads <c>"unavailable"</c> with a reason
/// while the others are still answered. Computed from the signals on every read, so it is never older than them.
/// </summary>
public sealed partial class Pulse(NpgsqlDataSource dataSource, ILogger<Pulse> logger)
{
    public const string Version = "pulse/1+" + SentimentScorer.Version + "+" + PsychologicalSafety.Version;
    public const string Unavailable = "unavailable";

    public static readonly IReadOnlyDictionary<string, string> GroupColumns = new Dictionary<string, string>
    {
        ["team"] = "coalesce(m.team, s.team)", ["org"] = "m.org", ["cohort"] = "m.cohort",
    };

    private sealed record Engagement(long Active, long Activities, long Replies, long Posts, double? MedianLatency);

    private sealed record Mood(long Scored, double Mean, long Positive, long Negative);

    public async Task<JsonObject> AggregateAsync(Guid tenantId, string groupBy, TimeSpan window, DateTimeOffset asOf, string? onlyGroup, CancellationToken ct = default)
    {
        var column = GroupColumns[groupBy];
        var from = asOf - window;
        var prevFrom = from - window;
        var failures = new Dictionary<string, string>();

        var engagement = await TryAsync("engagement", failures, () => EngagementAsync(tenantId, column, prevFrom, from, asOf, ct));
        var mood = await TryAsync("sentiment", failures, () => MoodAsync(tenantId, column, prevFrom, from, asOf, ct));
        var surveys = await TryAsync("psychologicalSafety", failures, () => SurveysAsync(tenantId, groupBy, from, asOf, ct));

        var groups = new SortedSet<string>(StringComparer.Ordinal);
        var keys = new List<(string Group, bool Current)>();
        if (engagement is not null) keys.AddRange(engagement.Keys);
        if (mood is not null) keys.AddRange(mood.Keys);
        if (surveys is not null) keys.AddRange(surveys.Keys);
        foreach (var key in keys)
        {
            if (key.Current) groups.Add(key.Group);
        }
        var reported = new JsonArray();
        long suppressedGroups = 0, suppressedPeople = 0;
        foreach (var g in groups)
        {
            if (onlyGroup is not null && g != onlyGroup) continue;
            var cur = engagement?.GetValueOrDefault((g, true));
            var prev = engagement?.GetValueOrDefault((g, false));
            var size = cur?.Active ?? 0;
            // Without engagement the group's size is unknown, so nothing of it is reported on its own (privacy first).
            if (engagement is null || !KAnonymity.IsReportable((int)size))
            {
                suppressedGroups++;
                suppressedPeople += size;
                continue;
            }
            var notes = new JsonObject();
            var item = new JsonObject { ["group"] = g == "" ? null : g, ["activeMembers"] = size };
            item["engagement"] = engagement is null ? Unavailable : EngagementNode(cur!);
            var m = mood?.GetValueOrDefault((g, true));
            var pm = mood?.GetValueOrDefault((g, false));
            if (mood is null || m is null || m.Scored == 0)
            {
                item["sentiment"] = Unavailable;
                notes["sentiment"] = mood is null ? failures["sentiment"] : "no scored messages in the window";
            }
            else
            {
                item["sentiment"] = new JsonObject
                {
                    ["mean"] = Math.Round(m.Mean, 4), ["positiveShare"] = Math.Round((double)m.Positive / m.Scored, 4),
                    ["negativeShare"] = Math.Round((double)m.Negative / m.Scored, 4), ["scoredMessages"] = m.Scored,
                };
            }
            PsychologicalSafety.TeamResult? safety = null;
            var answers = surveys?.GetValueOrDefault((g, true));
            if (surveys is null || answers is null || answers.Count == 0)
            {
                item["psychologicalSafety"] = Unavailable;
                notes["psychologicalSafety"] = surveys is null ? failures["psychologicalSafety"] : "no survey responses in the window";
            }
            else
            {
                safety = PsychologicalSafety.ScoreTeam(answers);
                if (!safety.Reportable)
                {
                    item["psychologicalSafety"] = Unavailable;
                    notes["psychologicalSafety"] = $"fewer than {KAnonymity.DefaultFloor} respondents (k-anonymity floor)";
                }
                else
                {
                    item["psychologicalSafety"] = new JsonObject
                    {
                        ["mean"] = Math.Round(safety.Mean!.Value, 4), ["respondents"] = safety.Respondents,
                        ["cronbachAlpha"] = safety.CronbachAlpha is { } a ? Math.Round(a, 4) : null, ["scale"] = "1-7",
                    };
                }
            }
            var trend = new JsonObject();
            if (engagement is not null && prev is not null && prev.Active > 0)
            {
                trend["activitiesPerMember"] = Math.Round(PerMember(cur!) - PerMember(prev), 4);
                trend["activeMembers"] = cur!.Active - prev.Active;
            }
            if (m is not null && pm is not null && m.Scored > 0 && pm.Scored > 0)
            {
                trend["sentiment"] = Math.Round(m.Mean - pm.Mean, 4);
            }
            if (trend.Count == 0)
            {
                item["trend"] = Unavailable;
                notes["trend"] = "no comparable activity in the previous window";
            }
            else
            {
                item["trend"] = trend;
            }
            item["riskFlags"] = RiskFlags(cur, prev, m, safety);
            if (notes.Count > 0) item["unavailableReasons"] = notes;
            reported.Add(item);
        }
        var result = new JsonObject
        {
            ["groupBy"] = groupBy,
            ["windowDays"] = window.TotalDays,
            ["from"] = from,
            ["to"] = asOf,
            ["groups"] = reported,
            ["suppressed"] = new JsonObject { ["groups"] = suppressedGroups, ["members"] = suppressedPeople, ["floor"] = KAnonymity.DefaultFloor },
        };
        if (failures.Count > 0)
        {
            result["unavailable"] = JsonSerializer.SerializeToNode(failures);
        }
        return result;
    }

    private static double PerMember(Engagement e) => e.Active == 0 ? 0 : (double)e.Activities / e.Active;

    private static JsonObject EngagementNode(Engagement e) => new()
    {
        ["activeMembers"] = e.Active,
        ["activities"] = e.Activities,
        ["activitiesPerMember"] = Math.Round(PerMember(e), 4),
        ["replyRate"] = e.Posts == 0 ? null : Math.Round((double)e.Replies / e.Posts, 4),
        ["medianReplyLatencySeconds"] = e.MedianLatency is { } l ? Math.Round(l, 1) : null,
    };

    /// <summary>Flags a lead should look at, each with the numbers behind it.</summary>
    private static JsonArray RiskFlags(Engagement? cur, Engagement? prev, Mood? mood, PsychologicalSafety.TeamResult? safety)
    {
        var flags = new JsonArray();
        void Flag(string code, string reason) => flags.Add(new JsonObject { ["flag"] = code, ["reason"] = reason });
        if (cur is not null && prev is not null && prev.Active > 0 && PerMember(prev) > 0 && PerMember(cur) < 0.7 * PerMember(prev))
            Flag("engagement_drop", $"activities per member fell from {PerMember(prev):F1} to {PerMember(cur):F1} (more than 30 %)");
        if (cur is not null && prev is not null && prev.Active >= 5 && cur.Active < 0.7 * prev.Active)
            Flag("participation_drop", $"active members fell from {prev.Active} to {cur.Active}");
        if (cur is not null && cur.Posts >= 10 && (double)cur.Replies / cur.Posts < 0.1)
            Flag("low_reply_rate", $"only {(double)cur.Replies / cur.Posts:P0} of posts are replies");
        if (mood is not null && mood.Scored >= 10 && mood.Mean <= SentimentScorer.NegativeThreshold)
            Flag("negative_sentiment", $"mean sentiment {mood.Mean:F2} over {mood.Scored} messages");
        if (safety is { Reportable: true, Mean: < 4.0 })
            Flag("low_psychological_safety", $"team mean {safety.Mean:F2} on the 1–7 scale (below the midpoint 4)");
        return flags;
    }

    private async Task<T?> TryAsync<T>(string component, Dictionary<string, string> failures, Func<Task<T>> compute) where T : class
    {
        try
        {
            return await compute();
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            LogComponentFailed(logger, component, ex.Message);
            failures[component] = "could not be computed: " + ex.GetType().Name;
            return null;
        }
    }

    private const string ConsentedActor =
        "EXISTS (SELECT 1 FROM governance.consents c WHERE c.tenant_id = s.tenant_id AND c.user_id = s.actor_id AND c.purpose = 'pulse' AND c.granted)";

    private async Task<Dictionary<(string Group, bool Current), Engagement>> EngagementAsync(Guid tenantId, string column, DateTimeOffset prevFrom,
        DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, $"""
            SELECT coalesce({column}, ''), s.occurred_at > $3, count(DISTINCT s.actor_id), count(*),
                   count(*) FILTER (WHERE s.kind = 'reply'), count(*) FILTER (WHERE s.kind IN ('message', 'reply')),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY s.latency_seconds) FILTER (WHERE s.kind = 'reply' AND s.latency_seconds IS NOT NULL)
            FROM community.signals s LEFT JOIN community.members m ON m.tenant_id = s.tenant_id AND m.user_id = s.actor_id
            WHERE s.tenant_id = $1 AND s.occurred_at > $2 AND s.occurred_at <= $4 AND {ConsentedActor}
            GROUP BY 1, 2
            """, ct);
        Bind(cmd, tenantId, prevFrom, from, to);
        var map = new Dictionary<(string, bool), Engagement>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            map[(r.GetString(0), r.GetBoolean(1))] = new Engagement(r.GetInt64(2), r.GetInt64(3), r.GetInt64(4), r.GetInt64(5), r.IsDBNull(6) ? null : r.GetDouble(6));
        }
        return map;
    }

    private async Task<Dictionary<(string Group, bool Current), Mood>> MoodAsync(Guid tenantId, string column, DateTimeOffset prevFrom,
        DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, $"""
            SELECT coalesce({column}, ''), s.occurred_at > $3, count(s.sentiment), coalesce(avg(s.sentiment), 0),
                   count(*) FILTER (WHERE s.sentiment >= {SentimentScorer.PositiveThreshold.ToString(System.Globalization.CultureInfo.InvariantCulture)}),
                   count(*) FILTER (WHERE s.sentiment <= {SentimentScorer.NegativeThreshold.ToString(System.Globalization.CultureInfo.InvariantCulture)})
            FROM community.signals s LEFT JOIN community.members m ON m.tenant_id = s.tenant_id AND m.user_id = s.actor_id
            WHERE s.tenant_id = $1 AND s.occurred_at > $2 AND s.occurred_at <= $4 AND s.sentiment IS NOT NULL AND {ConsentedActor}
            GROUP BY 1, 2
            """, ct);
        Bind(cmd, tenantId, prevFrom, from, to);
        var map = new Dictionary<(string, bool), Mood>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            map[(r.GetString(0), r.GetBoolean(1))] = new Mood(r.GetInt64(2), r.GetDouble(3), r.GetInt64(4), r.GetInt64(5));
        }
        return map;
    }

    /// <summary>Each respondent's latest answers in the window, grouped by the respondent's directory group.</summary>
    private async Task<Dictionary<(string Group, bool Current), List<IReadOnlyList<int>>>> SurveysAsync(Guid tenantId, string groupBy, DateTimeOffset from,
        DateTimeOffset to, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, $"""
            SELECT DISTINCT ON (r.respondent_id) coalesce(m.{groupBy}, ''), r.answers
            FROM community.survey_responses r LEFT JOIN community.members m ON m.tenant_id = r.tenant_id AND m.user_id = r.respondent_id
            WHERE r.tenant_id = $1 AND r.created_at > $2 AND r.created_at <= $3
              AND EXISTS (SELECT 1 FROM governance.consents c WHERE c.tenant_id = r.tenant_id AND c.user_id = r.respondent_id AND c.purpose = 'pulse' AND c.granted)
            ORDER BY r.respondent_id, r.created_at DESC
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = from });
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = to });
        var map = new Dictionary<(string, bool), List<IReadOnlyList<int>>>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            var key = (r.GetString(0), true);
            if (!map.TryGetValue(key, out var list)) map[key] = list = [];
            list.Add([.. r.GetFieldValue<short[]>(1).Select(x => (int)x)]);
        }
        return map;
    }

    private static void Bind(NpgsqlCommand cmd, Guid tenantId, DateTimeOffset prevFrom, DateTimeOffset from, DateTimeOffset to)
    {
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = prevFrom });
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = from });
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = to });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pulse component {Component} could not be computed: {Reason}")]
    private static partial void LogComponentFailed(ILogger logger, string component, string reason);
}
