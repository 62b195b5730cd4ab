using System.Text.Json.Nodes;
using Npgsql;

namespace Platform.Core.Privacy;

/// <summary>
/// A Convener member: the directory entry, the interaction signals they took part in, survey answers, learning
/// catalysts, ideas and adoptions, approvals about them, stored rankings that name them, and their conversation messages.
/// Erasure deletes the directory entry and the words they wrote and puts a pseudonym where rows feed aggregates
/// (signals, survey answers, rankings, lineage), so team figures for past periods still add up.
/// </summary>
public sealed class CommunityMemberData : IPersonalDataModule
{
    public string Module => "community";

    public async Task<bool> HoldsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, string subject, CancellationToken ct) =>
        await SubjectSql.ExecAsync(conn, tx, """
            SELECT (EXISTS (SELECT 1 FROM community.members WHERE tenant_id = $1 AND user_id = $2)
                 OR EXISTS (SELECT 1 FROM community.signals WHERE tenant_id = $1 AND (actor_id = $2 OR target_id = $2)))::int
            """, tenantId, subject, null, ct) == 1;

    public async Task ExportAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, string subject, JsonObject bundle, CancellationToken ct)
    {
        bundle["member"] = await SubjectSql.RowsAsync(conn, tx,
            "SELECT user_id, display_name, team, org, cohort, skills, roles, created_at, updated_at FROM community.members WHERE tenant_id = $1 AND user_id = $2",
            tenantId, subject, ct);
        bundle["signals"] = await SubjectSql.RowsAsync(conn, tx, """
            SELECT kind, CASE WHEN actor_id = $2 THEN 'actor' ELSE 'target' END AS role, team, occurred_at, weight, sentiment, latency_seconds
              FROM community.signals WHERE tenant_id = $1 AND (actor_id = $2 OR target_id = $2) ORDER BY occurred_at, id
            """, tenantId, subject, ct);
        bundle["surveyResponses"] = await SubjectSql.RowsAsync(conn, tx,
            "SELECT survey_id, answers, created_at FROM community.survey_responses WHERE tenant_id = $1 AND respondent_id = $2 ORDER BY created_at",
            tenantId, subject, ct);
        bundle["learningCatalysts"] = await SubjectSql.RowsAsync(conn, tx, """
            SELECT id, title, tags, occurred_at, created_by = $2 AS created_by_subject FROM community.learning_catalysts
             WHERE tenant_id = $1 AND ($2 = ANY (contributors) OR created_by = $2) ORDER BY occurred_at
            """, tenantId, subject, ct);
        bundle["ideas"] = await SubjectSql.RowsAsync(conn, tx,
            "SELECT id, title, team, created_at FROM community.ideas WHERE tenant_id = $1 AND originator_id = $2 ORDER BY created_at", tenantId, subject, ct);
        bundle["adoptions"] = await SubjectSql.RowsAsync(conn, tx,
            "SELECT idea_id, source_adopter_id, created_at FROM community.adoptions WHERE tenant_id = $1 AND adopter_id = $2 ORDER BY created_at",
            tenantId, subject, ct);
        bundle["approvals"] = await SubjectSql.RowsAsync(conn, tx, """
            SELECT id, kind, status, requested_by, decided_at, created_at FROM governance.approvals
             WHERE tenant_id = $1 AND subject_user_id = $2 ORDER BY created_at
            """, tenantId, subject, ct);
        bundle["messages"] = await SubjectSql.RowsAsync(conn, tx, """
            SELECT conversation_id, seq, id, type, from_name, text, attachments, created_at FROM core.activities
             WHERE tenant_id = $1 AND from_id = $2 ORDER BY created_at, seq
            """, tenantId, subject, ct);
    }

    public async Task EraseAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, string subject, string pseudonym, JsonObject result,
        CancellationToken ct)
    {
        async Task<int> Exec(string sql) => await SubjectSql.ExecAsync(conn, tx, sql, tenantId, subject, pseudonym, ct);
        result["memberRemoved"] = await Exec("DELETE FROM community.members WHERE tenant_id = $1 AND user_id = $2 AND $3 <> ''") == 1;
        result["signalsPseudonymised"] = await Exec("""
            UPDATE community.signals SET actor_id = CASE WHEN actor_id = $2 THEN $3 ELSE actor_id END,
                                         target_id = CASE WHEN target_id = $2 THEN $3 ELSE target_id END
             WHERE tenant_id = $1 AND (actor_id = $2 OR target_id = $2)
            """);
        result["surveyResponsesPseudonymised"] = await Exec("UPDATE community.survey_responses SET respondent_id = $3 WHERE tenant_id = $1 AND respondent_id = $2");
        result["learningCatalystsPseudonymised"] = await Exec("""
            UPDATE community.learning_catalysts SET contributors = array_replace(contributors, $2, $3),
                                                    created_by = CASE WHEN created_by = $2 THEN $3 ELSE created_by END
             WHERE tenant_id = $1 AND ($2 = ANY (contributors) OR created_by = $2)
            """);
        result["ideasPseudonymised"] = await Exec("UPDATE community.ideas SET originator_id = $3 WHERE tenant_id = $1 AND originator_id = $2")
            + await Exec("""
                UPDATE community.adoptions SET adopter_id = CASE WHEN adopter_id = $2 THEN $3 ELSE adopter_id END,
                                               source_adopter_id = CASE WHEN source_adopter_id = $2 THEN $3 ELSE source_adopter_id END
                 WHERE tenant_id = $1 AND (adopter_id = $2 OR source_adopter_id = $2)
                """);
        result["approvalsPseudonymised"] = await Exec("""
            UPDATE governance.approvals SET subject_user_id = CASE WHEN subject_user_id = $2 THEN $3 ELSE subject_user_id END,
                                            requested_by = CASE WHEN requested_by = $2 THEN $3 ELSE requested_by END,
                                            decided_by = CASE WHEN decided_by = $2 THEN $3 ELSE decided_by END,
                                            payload = CASE WHEN subject_user_id = $2 THEN '{}' ELSE payload END
             WHERE tenant_id = $1 AND (subject_user_id = $2 OR requested_by = $2 OR decided_by = $2)
            """);
        // A stored ranking names members as JSON strings: each exact occurrence of the id becomes the pseudonym.
        result["rankingsPseudonymised"] = await Exec("""
            UPDATE community.rankings SET result = replace(result::text, to_json($2::text)::text, to_json($3::text)::text)::jsonb
             WHERE tenant_id = $1 AND strpos(result::text, to_json($2::text)::text) > 0
            """);
        result["messagesRedacted"] = await Exec("SELECT core.erase_activity_author($1, $2, $3)");
    }
}

/// <summary>
/// A conference attendee, across every conference of the tenant: profiles, computed matches, match feedback, gathering
/// invitations and the intelligence reports that name them. Erasure deletes profiles and matches (recomputable), keeps
/// feedback and invitations under a pseudonym (the matcher's weight history and attendance counts), and replaces the
/// person's id and name in stored reports.
/// </summary>
public sealed class ConferenceAttendeeData(Events.EventsStore store) : IPersonalDataModule
{
    private async Task RenderAgainAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, Guid reportId, CancellationToken ct)
    {
        Guid conferenceId;
        string json;
        await using (var read = new NpgsqlCommand("SELECT conference_id, result::text FROM events.reports WHERE tenant_id = $1 AND id = $2", conn, tx))
        {
            read.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            read.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = reportId });
            await using var r = await read.ExecuteReaderAsync(ct);
            await r.ReadAsync(ct);
            (conferenceId, json) = (r.GetGuid(0), r.GetString(1));
        }
        var report = System.Text.Json.JsonSerializer.Deserialize(json, Events.EventsJsonContext.Default.IntelligenceReport)!;
        var conference = await store.FindConferenceAsync(tenantId, conferenceId, ct);
        await using var write = new NpgsqlCommand("UPDATE events.reports SET html = $3 WHERE tenant_id = $1 AND id = $2", conn, tx);
        write.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        write.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = reportId });
        write.Parameters.Add(new NpgsqlParameter { Value = conference is null ? DBNull.Value : Events.IntelligenceReports.RenderHtml(conference, report),
            NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        await write.ExecuteNonQueryAsync(ct);
    }

    public string Module => "events";

    public async Task<bool> HoldsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, string subject, CancellationToken ct) =>
        await SubjectSql.ExecAsync(conn, tx, "SELECT (EXISTS (SELECT 1 FROM events.attendees WHERE tenant_id = $1 AND user_id = $2))::int",
            tenantId, subject, null, ct) == 1;

    public async Task ExportAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, string subject, JsonObject bundle, CancellationToken ct)
    {
        bundle["attendances"] = await SubjectSql.RowsAsync(conn, tx, """
            SELECT conference_id, user_id, display_name, kind, company, role, industry, bio, profile, consent_to_match, consent_to_invites, created_at, updated_at
              FROM events.attendees WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at
            """, tenantId, subject, ct);
        bundle["matches"] = await SubjectSql.RowsAsync(conn, tx, """
            SELECT conference_id, rank, match_user_id, score, reasons, computed_at FROM events.matches
             WHERE tenant_id = $1 AND user_id = $2 ORDER BY conference_id, rank
            """, tenantId, subject, ct);
        bundle["matchFeedback"] = await SubjectSql.RowsAsync(conn, tx, """
            SELECT conference_id, CASE WHEN user_id = $2 THEN 'given' ELSE 'received' END AS direction, outcome, created_at
              FROM events.match_feedback WHERE tenant_id = $1 AND (user_id = $2 OR match_user_id = $2) ORDER BY created_at, id
            """, tenantId, subject, ct);
        bundle["gatheringInvitations"] = await SubjectSql.RowsAsync(conn, tx, """
            SELECT i.gathering_id, g.topic, g.starts_at, i.status, i.source, i.invited_at, i.responded_at
              FROM events.gathering_invitations i JOIN events.gatherings g ON g.id = i.gathering_id
             WHERE i.tenant_id = $1 AND i.user_id = $2 ORDER BY g.starts_at
            """, tenantId, subject, ct);
    }

    public async Task EraseAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, string subject, string pseudonym, JsonObject result,
        CancellationToken ct)
    {
        async Task<int> Exec(string sql) => await SubjectSql.ExecAsync(conn, tx, sql, tenantId, subject, pseudonym, ct);
        var names = await SubjectSql.RowsAsync(conn, tx,
            "SELECT DISTINCT display_name FROM events.attendees WHERE tenant_id = $1 AND user_id = $2", tenantId, subject, ct);
        // The cached matching index is valid for one revision of the conference: bump it, as every profile write does.
        await Exec("""
            UPDATE events.conferences SET revision = revision + 1
             WHERE tenant_id = $1 AND id IN (SELECT conference_id FROM events.attendees WHERE tenant_id = $1 AND user_id = $2) AND $3 <> ''
            """);
        result["attendancesRemoved"] = await Exec("DELETE FROM events.attendees WHERE tenant_id = $1 AND user_id = $2 AND $3 <> ''");
        result["matchesRemoved"] = await Exec("DELETE FROM events.matches WHERE tenant_id = $1 AND (user_id = $2 OR match_user_id = $2) AND $3 <> ''");
        result["feedbackPseudonymised"] = await Exec("SELECT events.erase_feedback_subject($1, $2, $3)");
        result["invitationsPseudonymised"] = await Exec("UPDATE events.gathering_invitations SET user_id = $3 WHERE tenant_id = $1 AND user_id = $2");
        // Reports are snapshots: the person's id and name become the pseudonym in the JSON (exact string values only),
        // and the page is rendered again from the redacted JSON, so no text match runs over HTML.
        var touched = new HashSet<Guid>();
        foreach (var value in names.Select(n => n!["display_name"]!.GetValue<string>()).Prepend(subject).Where(v => v.Length > 0).Distinct())
        {
            await using var cmd = new NpgsqlCommand("""
                UPDATE events.reports SET result = replace(result::text, to_json($2::text)::text, to_json($3::text)::text)::jsonb
                 WHERE tenant_id = $1 AND result IS NOT NULL AND strpos(result::text, to_json($2::text)::text) > 0
                RETURNING id
                """, conn, tx);
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = value });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = pseudonym });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                touched.Add(r.GetGuid(0));
            }
        }
        foreach (var reportId in touched)
        {
            await RenderAgainAsync(conn, tx, tenantId, reportId, ct);
        }
        var reports = touched.Count;
        result["reportsRedacted"] = reports;
    }
}

/// <summary>
/// A civic reader: the profile (name, e-mail, home city, notification settings). Civic content (meetings, summaries,
/// evidence) is about public meetings, not about readers, so nothing else names them. Erasure anonymises the profile as
/// <c>DELETE /v1/civic/me</c> does; the tombstone (no name, e-mail or city) goes with the civic retention period.
/// </summary>
public sealed class CivicResidentData : IPersonalDataModule
{
    public string Module => "civic";

    public async Task<bool> HoldsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, string subject, CancellationToken ct) =>
        await SubjectSql.ExecAsync(conn, tx, "SELECT (EXISTS (SELECT 1 FROM civic.profiles WHERE tenant_id = $1 AND user_id = $2))::int",
            tenantId, subject, null, ct) == 1;

    public async Task ExportAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, string subject, JsonObject bundle, CancellationToken ct) =>
        bundle["profile"] = await SubjectSql.RowsAsync(conn, tx, """
            SELECT p.user_id, p.display_name, p.email, p.home_city_id, c.name AS home_city, p.notifications_enabled, p.pause_until, p.created_at, p.updated_at
              FROM civic.profiles p LEFT JOIN civic.cities c ON c.id = p.home_city_id WHERE p.tenant_id = $1 AND p.user_id = $2
            """, tenantId, subject, ct);

    public async Task EraseAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, string subject, string pseudonym, JsonObject result,
        CancellationToken ct) =>
        result["profileAnonymised"] = await SubjectSql.ExecAsync(conn, tx, Civic.CivicProfiles.AnonymiseSql, tenantId, subject,
            Civic.CivicProfiles.AnonymousId(tenantId, subject), ct) == 1;
}
