using System.Globalization;
using Npgsql;
using NpgsqlTypes;
using Platform.Core.Data;

namespace Platform.Core.Community;

public static class CatalystOutcomeKinds
{
    public const string Idea = "idea";
    public static readonly IReadOnlyList<string> All = [Idea, "skill", "project", "metric", "other"];
}

/// <summary>An outcome linked to a catalyst; for an idea, its title and how many people adopted it so far.</summary>
public sealed record CatalystOutcome(Guid Id, Guid CatalystId, string Kind, string Description, Guid? IdeaId, string? IdeaTitle, int? IdeaAdoptions,
    string? Metric, double? Value, DateTimeOffset OccurredAt, string RecordedBy, DateTimeOffset CreatedAt);

public sealed record NewCatalystOutcome(string Kind, string Description, Guid? IdeaId, string? Metric, double? Value, DateTimeOffset OccurredAt);

public enum LinkOutcome { Linked, CatalystNotFound, IdeaNotFound }

public sealed record LearningGoals(string UserId, IReadOnlyList<string> Goals, DateTimeOffset? UpdatedAt);

/// <summary>One recommended catalyst: its score (<see cref="LearningMatcher"/>), the goals it matches and the reasons in words.</summary>
public sealed record LearningRecommendation(LearningCatalyst Catalyst, double Score, IReadOnlyList<string> MatchedGoals, IReadOnlyList<CatalystOutcome> Outcomes,
    IReadOnlyList<string> Reasons);

/// <summary>Outcomes linked to learning catalysts, and members' learning goals.</summary>
public sealed class LearningOutcomes(NpgsqlDataSource dataSource)
{
    public const int MaxGoals = 20;

    private const string Columns = """
        o.id, o.catalyst_id, o.kind, o.description, o.idea_id, i.title,
        (SELECT count(*)::int FROM community.adoptions a WHERE a.tenant_id = o.tenant_id AND a.idea_id = o.idea_id),
        o.metric, o.value, o.occurred_at, o.recorded_by, o.created_at
        """;

    public async Task<(LinkOutcome Outcome, CatalystOutcome? Linked)> LinkAsync(Guid tenantId, Guid catalystId, NewCatalystOutcome o, string recordedBy,
        CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var check = new NpgsqlCommand("""
            SELECT EXISTS (SELECT 1 FROM community.learning_catalysts WHERE tenant_id = $1 AND id = $2),
                   $3::uuid IS NULL OR EXISTS (SELECT 1 FROM community.ideas WHERE tenant_id = $1 AND id = $3)
            """, conn, tx))
        {
            check.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            check.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = catalystId });
            check.Parameters.Add(new NpgsqlParameter { Value = (object?)o.IdeaId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
            await using var r = await check.ExecuteReaderAsync(ct);
            await r.ReadAsync(ct);
            if (!r.GetBoolean(0)) return (LinkOutcome.CatalystNotFound, null);
            if (!r.GetBoolean(1)) return (LinkOutcome.IdeaNotFound, null);
        }
        var id = Guid.CreateVersion7();
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO community.catalyst_outcomes (id, tenant_id, catalyst_id, kind, description, idea_id, metric, value, occurred_at, recorded_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            """, conn, tx))
        {
            var p = insert.Parameters;
            p.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            p.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            p.Add(new NpgsqlParameter<Guid> { TypedValue = catalystId });
            p.Add(new NpgsqlParameter<string> { TypedValue = o.Kind });
            p.Add(new NpgsqlParameter<string> { TypedValue = o.Description });
            p.Add(new NpgsqlParameter { Value = (object?)o.IdeaId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
            p.Add(Members.Text(o.Metric));
            p.Add(new NpgsqlParameter { Value = (object?)o.Value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Double });
            p.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = o.OccurredAt.ToUniversalTime() });
            p.Add(new NpgsqlParameter<string> { TypedValue = recordedBy });
            await insert.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return (LinkOutcome.Linked, (await OfAsync(tenantId, [catalystId], ct)).Single(x => x.Id == id));
    }

    /// <summary>The outcomes of the given catalysts, oldest first.</summary>
    public async Task<IReadOnlyList<CatalystOutcome>> OfAsync(Guid tenantId, IReadOnlyCollection<Guid> catalystIds, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, $"""
            SELECT {Columns} FROM community.catalyst_outcomes o LEFT JOIN community.ideas i ON i.tenant_id = o.tenant_id AND i.id = o.idea_id
            WHERE o.tenant_id = $1 AND o.catalyst_id = ANY($2) ORDER BY o.occurred_at, o.id
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. catalystIds] });
        var list = new List<CatalystOutcome>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            var idea = !r.IsDBNull(4);
            list.Add(new CatalystOutcome(r.GetGuid(0), r.GetGuid(1), r.GetString(2), r.GetString(3), idea ? r.GetGuid(4) : null,
                r.IsDBNull(5) ? null : r.GetString(5), idea ? r.GetInt32(6) : null, r.IsDBNull(7) ? null : r.GetString(7),
                r.IsDBNull(8) ? null : r.GetDouble(8), r.GetFieldValue<DateTimeOffset>(9), r.GetString(10), r.GetFieldValue<DateTimeOffset>(11)));
        }
        return list;
    }

    public async Task<LearningGoals> SetGoalsAsync(Guid tenantId, string userId, IReadOnlyList<string> goals, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, """
            INSERT INTO community.learning_goals (tenant_id, user_id, goals) VALUES ($1, $2, $3)
            ON CONFLICT (tenant_id, user_id) DO UPDATE SET goals = EXCLUDED.goals, updated_at = now()
            RETURNING updated_at
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. goals] });
        var at = (DateTime)(await cmd.ExecuteScalarAsync(ct))!;
        return new LearningGoals(userId, goals, new DateTimeOffset(at, TimeSpan.Zero));
    }

    public async Task<LearningGoals> GoalsAsync(Guid tenantId, string userId, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId,
            "SELECT goals, updated_at FROM community.learning_goals WHERE tenant_id = $1 AND user_id = $2", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? new LearningGoals(userId, r.GetFieldValue<string[]>(0), r.GetFieldValue<DateTimeOffset>(1)) : new LearningGoals(userId, [], null);
    }
}

/// <summary>
/// <c>learning-match/1</c>: a catalyst is a candidate for a member when one of its tags is one of the member's goals
/// (case- and space-insensitive) and the member did not contribute to it. Score = 0.6 · goal coverage (matched goals /
/// all goals) + 0.3 · outcome evidence (min(1, linked outcomes / 3)) + 0.1 · recency (e^(−age in days / 180)).
/// Ties go to the newer catalyst, then the id.
/// </summary>
public static class LearningMatcher
{
    public const string Version = "learning-match/1";
    public const double CoverageWeight = 0.6, EvidenceWeight = 0.3, RecencyWeight = 0.1, OutcomesForFullEvidence = 3, RecencyDays = 180;

    public static string Normalise(string tag) => string.Join(' ', tag.Trim().ToLowerInvariant().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    public static IReadOnlyList<LearningRecommendation> Recommend(string userId, IReadOnlyList<string> goals, IReadOnlyList<LearningCatalyst> catalysts,
        IReadOnlyList<CatalystOutcome> outcomes, DateTimeOffset now, int limit)
    {
        var wanted = goals.Select(Normalise).Where(g => g.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        if (wanted.Count == 0) return [];
        var byCatalyst = outcomes.GroupBy(o => o.CatalystId).ToDictionary(g => g.Key, g => g.ToList());
        var result = new List<LearningRecommendation>();
        foreach (var c in catalysts)
        {
            if (c.Contributors.Contains(userId, StringComparer.Ordinal)) continue;
            var tags = c.Tags.Select(Normalise).ToHashSet(StringComparer.Ordinal);
            var matched = wanted.Where(tags.Contains).ToList();
            if (matched.Count == 0) continue;
            var linked = byCatalyst.GetValueOrDefault(c.Id) ?? [];
            var coverage = (double)matched.Count / wanted.Count;
            var evidence = Math.Min(1, linked.Count / OutcomesForFullEvidence);
            var recency = Math.Exp(-Math.Max(0, (now - c.OccurredAt).TotalDays) / RecencyDays);
            var score = CoverageWeight * coverage + EvidenceWeight * evidence + RecencyWeight * recency;
            var reasons = new List<string> { $"Matches your learning goal{(matched.Count > 1 ? "s" : "")} {string.Join(", ", matched)}." };
            foreach (var o in linked.Take(3))
            {
                reasons.Add(o.Kind == CatalystOutcomeKinds.Idea
                    ? $"Led to the idea \"{o.IdeaTitle}\", adopted by {o.IdeaAdoptions} {(o.IdeaAdoptions == 1 ? "person" : "people")}."
                    : $"Led to a {o.Kind} outcome: {o.Description}{(o.Metric is null ? "" : $" ({o.Metric}{(o.Value is { } v ? " " + v.ToString("0.##", CultureInfo.InvariantCulture) : "")})")}.");
            }
            if (linked.Count == 0) reasons.Add("No outcome linked yet.");
            result.Add(new LearningRecommendation(c, Math.Round(score, 6), matched, linked, reasons));
        }
        return [.. result.OrderByDescending(r => r.Score).ThenByDescending(r => r.Catalyst.OccurredAt).ThenBy(r => r.Catalyst.Id).Take(limit)];
    }
}
