using System.Globalization;
using Platform.Core.Governance;
using System.Text.Json;
using Npgsql;
using Platform.Core.Data;
using NpgsqlTypes;
using Platform.Core.Events.Matching;

namespace Platform.Core.Events;

public enum UpsertOutcome { Created, Updated, ConferenceNotFound, CapReached }

/// <summary>
/// Conferences and attendee profiles of one tenant (raw Npgsql: jsonb documents and array columns read more
/// plainly than through EF). Every statement filters by tenant, so another tenant's id is simply not found.
/// </summary>
public sealed class EventsStore(NpgsqlDataSource dataSource)
{
    // Feedback changes later rankings, so it goes into the tenant's provenance chain, so every ranking can be traced to the feedback that shaped it.
    private readonly ProvenanceLedger _provenance = new(dataSource, TimeProvider.System);

    private const string ConferenceColumns =
        "id, name, branding, features, limits, weight_interests, weight_complementarity, weight_bio, revision, created_at, weight_semantic";
    private const string AttendeeColumns =
        "conference_id, user_id, display_name, kind, company, role, industry, bio, profile, consent_to_match, consent_to_invites, created_at, updated_at";

    public NpgsqlDataSource DataSource => dataSource;

    public async Task<Conference> CreateConferenceAsync(Guid tenantId, string name, Branding branding, ConferenceFeatures features,
        ConferenceLimits limits, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, $"""
            INSERT INTO events.conferences (id, tenant_id, name, branding, features, limits) VALUES ($1, $2, $3, $4, $5, $6)
            RETURNING {ConferenceColumns}
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = Guid.CreateVersion7() });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        AddJson(cmd, JsonSerializer.Serialize(branding, EventsJsonContext.Default.Branding));
        AddJson(cmd, JsonSerializer.Serialize(features, EventsJsonContext.Default.ConferenceFeatures));
        AddJson(cmd, JsonSerializer.Serialize(limits, EventsJsonContext.Default.ConferenceLimits));
        return (await ReadConferencesAsync(cmd, ct))[0];
    }

    public async Task<IReadOnlyList<Conference>> ListConferencesAsync(Guid tenantId, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, $"SELECT {ConferenceColumns} FROM events.conferences WHERE tenant_id = $1 ORDER BY created_at, id", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        return await ReadConferencesAsync(cmd, ct);
    }

    public async Task<Conference?> FindConferenceAsync(Guid tenantId, Guid id, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, $"SELECT {ConferenceColumns} FROM events.conferences WHERE tenant_id = $1 AND id = $2", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        var list = await ReadConferencesAsync(cmd, ct);
        return list.Count == 0 ? null : list[0];
    }

    /// <summary>
    /// Creates or replaces a profile. The conference row is locked first so the attendee cap holds under
    /// concurrent sign-ups, and its revision is bumped so cached matching indexes see the change.
    /// </summary>
    public async Task<(UpsertOutcome Outcome, Attendee? Attendee)> UpsertAttendeeAsync(Guid tenantId, Guid conferenceId, string userId,
        Attendee profile, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var lockCmd = new NpgsqlCommand("SELECT limits FROM events.conferences WHERE tenant_id = $1 AND id = $2 FOR UPDATE", conn, tx))
        {
            lockCmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            lockCmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conferenceId });
            if (await lockCmd.ExecuteScalarAsync(ct) is not string limitsJson)
            {
                return (UpsertOutcome.ConferenceNotFound, null);
            }
            var limits = JsonSerializer.Deserialize(limitsJson, EventsJsonContext.Default.ConferenceLimits);
            if (limits?.AttendeeCap is { } cap)
            {
                await using var count = new NpgsqlCommand(
                    "SELECT count(*) FILTER (WHERE user_id <> $2), bool_or(user_id = $2) FROM events.attendees WHERE conference_id = $1", conn, tx);
                count.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conferenceId });
                count.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
                await using var r = await count.ExecuteReaderAsync(ct);
                await r.ReadAsync(ct);
                var others = r.GetInt64(0);
                var exists = !r.IsDBNull(1) && r.GetBoolean(1);
                if (!exists && others >= cap)
                {
                    return (UpsertOutcome.CapReached, null);
                }
            }
        }
        Attendee saved;
        bool created;
        await using (var cmd = new NpgsqlCommand($"""
            INSERT INTO events.attendees (tenant_id, conference_id, user_id, display_name, kind, company, role, industry, bio, profile,
                                          consent_to_match, consent_to_invites)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            ON CONFLICT (conference_id, user_id) DO UPDATE SET display_name = excluded.display_name, kind = excluded.kind,
                company = excluded.company, role = excluded.role, industry = excluded.industry, bio = excluded.bio, profile = excluded.profile,
                consent_to_match = excluded.consent_to_match, consent_to_invites = excluded.consent_to_invites, updated_at = now()
            RETURNING {AttendeeColumns}, xmax = 0
            """, conn, tx))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conferenceId });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = profile.DisplayName });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = profile.Kind });
            AddText(cmd, profile.Company);
            AddText(cmd, profile.Role);
            AddText(cmd, profile.Industry);
            AddText(cmd, profile.Bio);
            AddJson(cmd, JsonSerializer.Serialize(new ProfileDocument(profile.Skills, profile.Interests, profile.Offering, profile.Seeking, profile.Availability),
                EventsJsonContext.Default.ProfileDocument));
            cmd.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = profile.ConsentToMatch });
            cmd.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = profile.ConsentToInvites });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            await r.ReadAsync(ct);
            saved = ReadAttendee(r);
            created = r.GetBoolean(13);
        }
        await using (var bump = new NpgsqlCommand("UPDATE events.conferences SET revision = revision + 1 WHERE id = $1", conn, tx))
        {
            bump.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conferenceId });
            await bump.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return (created ? UpsertOutcome.Created : UpsertOutcome.Updated, saved);
    }

    public async Task<Attendee?> FindAttendeeAsync(Guid tenantId, Guid conferenceId, string userId, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId,
            $"SELECT {AttendeeColumns} FROM events.attendees WHERE tenant_id = $1 AND conference_id = $2 AND user_id = $3", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conferenceId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? ReadAttendee(r) : null;
    }

    /// <summary>All attendees of a conference in registration order (the matcher's and the report's input).</summary>
    public async Task<IReadOnlyList<Attendee>> ListAttendeesAsync(Guid tenantId, Guid conferenceId, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId,
            $"SELECT {AttendeeColumns} FROM events.attendees WHERE tenant_id = $1 AND conference_id = $2 ORDER BY created_at, user_id", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conferenceId });
        var list = new List<Attendee>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(ReadAttendee(r));
        }
        return list;
    }

    /// <summary>Pairs declined by either side: never recommended again.</summary>
    public async Task<HashSet<(string, string)>> DeclinedAsync(Guid tenantId, Guid conferenceId, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId,
            "SELECT user_id, match_user_id FROM events.match_feedback WHERE tenant_id = $1 AND conference_id = $2 AND outcome = 'declined'", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conferenceId });
        var set = new HashSet<(string, string)>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            set.Add((r.GetString(0), r.GetString(1)));
        }
        return set;
    }

    public sealed record FeedbackRow(string UserId, string MatchUserId, string Outcome, DateTimeOffset At);

    public async Task<IReadOnlyList<FeedbackRow>> FeedbackAsync(Guid tenantId, Guid conferenceId, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId,
            "SELECT user_id, match_user_id, outcome, created_at FROM events.match_feedback WHERE tenant_id = $1 AND conference_id = $2 ORDER BY id", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conferenceId });
        var list = new List<FeedbackRow>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(new FeedbackRow(r.GetString(0), r.GetString(1), r.GetString(2), r.GetFieldValue<DateTimeOffset>(3)));
        }
        return list;
    }

    /// <summary>
    /// Records feedback and applies the online weight update in one transaction: the conference row is locked so
    /// concurrent feedback steps apply one after another, each from the weights the previous one left.
    /// </summary>
    public async Task<FeedbackRecorded?> RecordFeedbackAsync(Guid tenantId, Guid conferenceId, string userId, string matchUserId,
        MatchOutcome outcome, MatchFeatures shown, Func<MatchWeights, double> pairScore, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        MatchWeights before;
        await using (var read = new NpgsqlCommand(
            "SELECT weight_interests, weight_complementarity, weight_bio, weight_semantic FROM events.conferences WHERE tenant_id = $1 AND id = $2 FOR UPDATE", conn, tx))
        {
            read.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            read.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conferenceId });
            await using var r = await read.ExecuteReaderAsync(ct);
            if (!await r.ReadAsync(ct))
            {
                return null;
            }
            before = new MatchWeights(r.GetDouble(0), r.GetDouble(1), r.GetDouble(2), r.GetDouble(3));
        }
        var after = ReciprocalMatcher.UpdateWeights(before, shown, outcome);
        var score = pairScore(before);
        await using (var update = new NpgsqlCommand(
            "UPDATE events.conferences SET weight_interests = $2, weight_complementarity = $3, weight_bio = $4, weight_semantic = $5 WHERE id = $1", conn, tx))
        {
            update.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conferenceId });
            update.Parameters.Add(new NpgsqlParameter<double> { TypedValue = after.Interests });
            update.Parameters.Add(new NpgsqlParameter<double> { TypedValue = after.Complementarity });
            update.Parameters.Add(new NpgsqlParameter<double> { TypedValue = after.Bio });
            update.Parameters.Add(new NpgsqlParameter<double> { TypedValue = after.Semantic });
            await update.ExecuteNonQueryAsync(ct);
        }
        var outcomeName = outcome.ToString().ToLowerInvariant();
        long id;
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO events.match_feedback (tenant_id, conference_id, user_id, match_user_id, outcome, features, pair_score, weights_before, weights_after, algorithm)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id
            """, conn, tx))
        {
            insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conferenceId });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = matchUserId });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = outcomeName });
            insert.Parameters.Add(new NpgsqlParameter<double[]> { TypedValue = [shown.InterestOverlap, shown.Complementarity, shown.BioSimilarity, shown.SemanticSimilarity] });
            insert.Parameters.Add(new NpgsqlParameter<double> { TypedValue = score });
            var b = before.Normalised();
            insert.Parameters.Add(new NpgsqlParameter<double[]> { TypedValue = [b.Interests, b.Complementarity, b.Bio, b.Semantic] });
            insert.Parameters.Add(new NpgsqlParameter<double[]> { TypedValue = [after.Interests, after.Complementarity, after.Bio, after.Semantic] });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ReciprocalMatcher.Version });
            id = (long)(await insert.ExecuteScalarAsync(ct))!;
        }
        var a = after.Normalised();
        var details = string.Create(CultureInfo.InvariantCulture,
            $"{{\"conferenceId\":\"{conferenceId}\",\"feedbackId\":{id},\"outcome\":\"{outcomeName}\",\"weightsAfter\":[{a.Interests},{a.Complementarity},{a.Bio},{a.Semantic}]}}");
        await _provenance.AppendAsync(conn, tx, tenantId,
            new ProvenanceEntry("match.feedback", userId, matchUserId, "reciprocal-matcher", ReciprocalMatcher.Version, details), ct);
        await tx.CommitAsync(ct);
        return new FeedbackRecorded(id, conferenceId, userId, matchUserId, outcomeName, shown, score, before.Normalised(), after);
    }

    /// <summary>Replaces the stored top matches of the given attendees (all of them for a batch run) in one transaction.</summary>
    public async Task ReplaceMatchesAsync(Guid tenantId, Guid conferenceId, IReadOnlyCollection<string> userIds,
        IReadOnlyList<(string UserId, MatchRecommendation Match, int Rank)> rows, DateTimeOffset computedAt, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Serialised with an erasure, which locks the conference row first: either the erasure sees these rows and
        // deletes them, or this write waits for it and its attendee check below sees the person gone.
        await using (var share = new NpgsqlCommand("SELECT 1 FROM events.conferences WHERE id = $1 FOR SHARE", conn, tx))
        {
            share.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conferenceId });
            await share.ExecuteNonQueryAsync(ct);
        }
        await using (var delete = new NpgsqlCommand("DELETE FROM events.matches WHERE conference_id = $1 AND user_id = ANY($2)", conn, tx))
        {
            delete.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conferenceId });
            delete.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. userIds] });
            await delete.ExecuteNonQueryAsync(ct);
        }
        // INSERT from arrays, not COPY: PostgreSQL refuses COPY FROM into a table under row-level security.
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO events.matches (tenant_id, conference_id, user_id, rank, match_user_id, score, reasons, starter, computed_at)
            SELECT $1, $2, u, r, m, s, re::jsonb, st, $9
            FROM unnest($3::text[], $4::int[], $5::text[], $6::float8[], $7::text[], $8::text[]) AS t (u, r, m, s, re, st)
            -- A list computed from profiles read before an erasure must not bring the erased person back.
            WHERE EXISTS (SELECT 1 FROM events.attendees a WHERE a.conference_id = $2 AND a.user_id = t.u)
              AND EXISTS (SELECT 1 FROM events.attendees a WHERE a.conference_id = $2 AND a.user_id = t.m)
            """, conn, tx))
        {
            insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conferenceId });
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. rows.Select(x => x.UserId)] });
            insert.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = [.. rows.Select(x => x.Rank)] });
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. rows.Select(x => x.Match.AttendeeId)] });
            insert.Parameters.Add(new NpgsqlParameter<double[]> { TypedValue = [.. rows.Select(x => x.Match.Score)] });
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. rows.Select(x => JsonSerializer.Serialize([.. x.Match.Reasons], EventsJsonContext.Default.ListString))] });
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. rows.Select(x => x.Match.ConversationStarter)] });
            insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = computedAt });
            await insert.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }

    /// <summary>Attendees whose profile changed after their stored list was computed (or who have none).</summary>
    public async Task<IReadOnlyList<string>> StaleAttendeesAsync(Guid tenantId, Guid conferenceId, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, """
            SELECT a.user_id FROM events.attendees a
            LEFT JOIN (SELECT user_id, max(computed_at) AS at FROM events.matches WHERE conference_id = $2 GROUP BY user_id) m ON m.user_id = a.user_id
            WHERE a.tenant_id = $1 AND a.conference_id = $2 AND a.consent_to_match AND (m.at IS NULL OR a.updated_at > m.at)
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conferenceId });
        var list = new List<string>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(r.GetString(0));
        }
        return list;
    }

    public async Task<long> CountMatchesAsync(Guid tenantId, Guid conferenceId, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, "SELECT count(*) FROM events.matches WHERE tenant_id = $1 AND conference_id = $2", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conferenceId });
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private static async Task<List<Conference>> ReadConferencesAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var list = new List<Conference>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(new Conference(r.GetGuid(0), r.GetString(1),
                JsonSerializer.Deserialize(r.GetString(2), EventsJsonContext.Default.Branding) ?? new Branding(),
                JsonSerializer.Deserialize(r.GetString(3), EventsJsonContext.Default.ConferenceFeatures) ?? new ConferenceFeatures(),
                JsonSerializer.Deserialize(r.GetString(4), EventsJsonContext.Default.ConferenceLimits) ?? new ConferenceLimits(),
                new MatchWeights(r.GetDouble(5), r.GetDouble(6), r.GetDouble(7), r.GetDouble(10)), r.GetInt64(8), r.GetFieldValue<DateTimeOffset>(9)));
        }
        return list;
    }

    private static Attendee ReadAttendee(NpgsqlDataReader r)
    {
        var doc = JsonSerializer.Deserialize(r.GetString(8), EventsJsonContext.Default.ProfileDocument)!;
        return new Attendee(r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetString(3), Text(r, 4), Text(r, 5), Text(r, 6), Text(r, 7),
            doc.Skills, doc.Interests, doc.Offering, doc.Seeking, doc.Availability, r.GetBoolean(9), r.GetBoolean(10),
            r.GetFieldValue<DateTimeOffset>(11), r.GetFieldValue<DateTimeOffset>(12));
    }

    private static string? Text(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    internal static void AddText(NpgsqlCommand cmd, string? value) =>
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });

    internal static void AddJson(NpgsqlCommand cmd, string json) =>
        cmd.Parameters.Add(new NpgsqlParameter { Value = json, NpgsqlDbType = NpgsqlDbType.Jsonb });
}
