using Npgsql;
using Platform.Core.Data;

namespace Platform.Core.Community;

public sealed record Survey(Guid Id, string Title, string? Team, string CreatedBy, DateTimeOffset CreatedAt);

/// <summary>Edmondson's 7-item team psychological safety survey: 1–7 answers, items 1, 3, 5 reverse-scored when scored.</summary>
public sealed class PulseSurveys(NpgsqlDataSource dataSource)
{
    public async Task<Survey> CreateAsync(Guid tenantId, string title, string? team, string createdBy, CancellationToken ct = default)
    {
        var survey = new Survey(Guid.CreateVersion7(), title, team, createdBy, DateTimeOffset.UtcNow);
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId,
            "INSERT INTO community.surveys (id, tenant_id, title, team, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING created_at", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = survey.Id });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = title });
        cmd.Parameters.Add(Members.Text(team));
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = createdBy });
        var at = (DateTime)(await cmd.ExecuteScalarAsync(ct))!;
        return survey with { CreatedAt = new DateTimeOffset(at, TimeSpan.Zero) };
    }

    /// <returns>False when the survey is not this tenant's.</returns>
    public async Task<bool> RespondAsync(Guid tenantId, Guid surveyId, string respondentId, IReadOnlyList<int> answers, CancellationToken ct = default)
    {
        // A second answer by the same person replaces the first: one voice per person.
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, """
            INSERT INTO community.survey_responses (survey_id, tenant_id, respondent_id, answers)
            SELECT id, tenant_id, $3, $4 FROM community.surveys WHERE id = $1 AND tenant_id = $2
            ON CONFLICT (survey_id, respondent_id) DO UPDATE SET answers = EXCLUDED.answers, created_at = now()
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = surveyId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = respondentId });
        cmd.Parameters.Add(new NpgsqlParameter<short[]> { TypedValue = [.. answers.Select(a => (short)a)] });
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }
}
