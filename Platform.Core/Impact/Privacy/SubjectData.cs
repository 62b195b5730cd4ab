using System.Text.Json.Nodes;
using Npgsql;

namespace Platform.Core.Impact.Privacy;

/// <summary>Everything stored about one person, as one JSON document (the GDPR export bundle).</summary>
public static class SubjectExport
{
    public const string FormatVersion = "impact-subject-export/1";

    /// <summary>
    /// Received domain events not applied yet that name the subject (by a connector id of theirs), opened: until applied
    /// they are the only copy of what the sender said about the person.
    /// </summary>
    public static async Task<JsonArray> PendingEventsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, Guid subject, PiiVault vault,
        CancellationToken ct)
    {
        var events = new JsonArray();
        await using var cmd = new NpgsqlCommand($"""
            SELECT e.event_id, e.source, e.type, e.received_at, e.envelope_enc, e.envelope::text FROM impact.domain_events e
             WHERE e.tenant_id = $1 AND e.processed_at IS NULL AND {PendingEventsOf} ORDER BY e.received_at, e.event_id
            """, conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = subject });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            var json = !r.IsDBNull(4) ? vault.OpenEnvelope(r.GetFieldValue<byte[]>(4), tenantId) : r.IsDBNull(5) ? null : r.GetString(5);
            events.Add(new JsonObject
            {
                ["eventId"] = r.GetString(0), ["source"] = r.GetString(1), ["type"] = r.GetString(2), ["receivedAt"] = r.GetFieldValue<DateTimeOffset>(3),
                ["envelope"] = json is null ? null : JsonNode.Parse(json),
            });
        }
        return events;
    }

    /// <summary>SQL condition on alias <c>e</c>: the event names one of the subject's ($2) connector ids of its source.</summary>
    internal const string PendingEventsOf = """
        EXISTS (SELECT 1 FROM impact.external_ids x WHERE x.tenant_id = e.tenant_id AND x.person_id = $2 AND x.source = e.source
                AND x.external_id = ANY (e.person_refs))
        """;

    public static async Task<JsonObject> BuildAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, Guid subject, PiiKeyring keyring,
        CancellationToken ct)
    {
        var bundle = new JsonObject
        {
            ["format"] = FormatVersion,
            ["subjectId"] = subject,
            ["generatedAt"] = DateTimeOffset.UtcNow,
        };
        var person = (await RowsAsync(conn, tx, """
            SELECT id, company_id, role, name_enc, email_enc, journey::text, created_at, erased_at FROM impact.people WHERE tenant_id = $1 AND id = $2
            """, tenantId, subject, r => new JsonObject
        {
            ["id"] = r.GetGuid(0), ["companyId"] = r.GetGuid(1), ["role"] = r.GetString(2),
            ["name"] = keyring.Read(subject, "name", r.IsDBNull(3) ? null : r.GetFieldValue<byte[]>(3)),
            ["email"] = keyring.Read(subject, "email", r.IsDBNull(4) ? null : r.GetFieldValue<byte[]>(4)),
            ["journey"] = JsonNode.Parse(r.GetString(5)), ["createdAt"] = r.GetFieldValue<DateTimeOffset>(6),
            ["erasedAt"] = r.IsDBNull(7) ? null : r.GetFieldValue<DateTimeOffset>(7),
        }, ct)).SingleOrDefault();
        bundle["person"] = person;
        bundle["externalIds"] = Array(await RowsAsync(conn, tx,
            "SELECT source, external_id, created_at FROM impact.external_ids WHERE tenant_id = $1 AND person_id = $2 ORDER BY source, external_id",
            tenantId, subject, r => new JsonObject { ["source"] = r.GetString(0), ["externalId"] = r.GetString(1), ["mappedAt"] = r.GetFieldValue<DateTimeOffset>(2) }, ct));
        bundle["enrollments"] = Array(await RowsAsync(conn, tx,
            "SELECT program, enrolled_at FROM impact.enrollments WHERE tenant_id = $1 AND person_id = $2 ORDER BY program",
            tenantId, subject, r => new JsonObject { ["program"] = r.GetString(0), ["enrolledAt"] = r.GetFieldValue<DateTimeOffset>(1) }, ct));
        bundle["sessions"] = Array(await RowsAsync(conn, tx, """
            SELECT id, source, external_id, program, CASE WHEN participant_id = $2 THEN 'participant' ELSE 'volunteer' END, occurred_at, minutes
              FROM impact.sessions WHERE tenant_id = $1 AND (participant_id = $2 OR volunteer_id = $2) ORDER BY occurred_at, id
            """, tenantId, subject, r => new JsonObject
        {
            ["id"] = r.GetGuid(0), ["source"] = r.GetString(1), ["externalId"] = r.GetString(2), ["program"] = r.GetString(3), ["as"] = r.GetString(4),
            ["occurredAt"] = r.GetFieldValue<DateTimeOffset>(5), ["minutes"] = r.GetInt32(6),
        }, ct));
        bundle["texts"] = Array(await RowsAsync(conn, tx, """
            SELECT id, source, external_id, kind, occurred_at, mood, rating, body_enc, status, about_id FROM impact.texts
             WHERE tenant_id = $1 AND person_id = $2 ORDER BY occurred_at, id
            """, tenantId, subject, r => new JsonObject
        {
            ["id"] = r.GetGuid(0), ["source"] = r.GetString(1), ["externalId"] = r.GetString(2), ["kind"] = r.GetString(3),
            ["occurredAt"] = r.GetFieldValue<DateTimeOffset>(4), ["mood"] = r.IsDBNull(5) ? null : r.GetInt16(5),
            ["rating"] = r.IsDBNull(6) ? null : r.GetDecimal(6),
            ["text"] = keyring.Read(subject, "text", r.IsDBNull(7) ? null : r.GetFieldValue<byte[]>(7)), ["status"] = r.GetString(8),
            ["aboutId"] = r.IsDBNull(9) ? null : r.GetGuid(9),
        }, ct));
        // Ratings others gave about this person (their words are the author's personal data, so only the rating and date).
        bundle["feedbackReceived"] = Array(await RowsAsync(conn, tx,
            "SELECT id, occurred_at, rating FROM impact.texts WHERE tenant_id = $1 AND about_id = $2 ORDER BY occurred_at, id",
            tenantId, subject, r => new JsonObject
            {
                ["id"] = r.GetGuid(0), ["occurredAt"] = r.GetFieldValue<DateTimeOffset>(1), ["rating"] = r.IsDBNull(2) ? null : r.GetDecimal(2),
            }, ct));
        bundle["courses"] = Array(await RowsAsync(conn, tx, """
            SELECT source, external_id, course, progress, completed_at, credential FROM impact.course_progress WHERE tenant_id = $1 AND person_id = $2 ORDER BY course
            """, tenantId, subject, r => new JsonObject
        {
            ["source"] = r.GetString(0), ["externalId"] = r.GetString(1), ["course"] = r.GetString(2), ["progress"] = r.GetDecimal(3),
            ["completedAt"] = r.IsDBNull(4) ? null : r.GetFieldValue<DateTimeOffset>(4), ["credential"] = r.IsDBNull(5) ? null : r.GetString(5),
        }, ct));
        var scores = await RowsAsync(conn, tx, """
            SELECT s.id, s.text_id, s.dimension, s.score, s.confidence, s.model_version, s.occurred_at,
                   coalesce((SELECT json_agg(json_build_object('enc', encode(e.snippet_enc, 'base64'), 'sha256', e.snippet_sha256, 'cues', e.cues,
                                                               'contribution', e.contribution) ORDER BY e.start_offset)
                               FROM impact.evidence_snippets e WHERE e.outcome_score_id = s.id), '[]')::text
              FROM impact.outcome_scores s WHERE s.tenant_id = $1 AND s.person_id = $2 ORDER BY s.occurred_at, s.text_id, s.dimension
            """, tenantId, subject, r =>
        {
            var evidence = new JsonArray();
            foreach (var e in JsonNode.Parse(r.GetString(7))!.AsArray())
            {
                var enc = e!["enc"]?.GetValue<string>();
                evidence.Add(new JsonObject
                {
                    ["sentence"] = keyring.Read(subject, "evidence", enc is null ? null : Convert.FromBase64String(enc)),
                    ["sha256"] = e["sha256"]?.DeepClone(), ["cues"] = e["cues"]?.DeepClone(), ["contribution"] = e["contribution"]?.DeepClone(),
                });
            }
            return new JsonObject
            {
                ["id"] = r.GetGuid(0), ["textId"] = r.GetGuid(1), ["dimension"] = r.GetString(2), ["score"] = r.IsDBNull(3) ? null : r.GetDecimal(3),
                ["confidence"] = r.GetDecimal(4), ["modelVersion"] = r.GetString(5), ["occurredAt"] = r.GetFieldValue<DateTimeOffset>(6), ["evidence"] = evidence,
            };
        }, ct);
        bundle["outcomeScores"] = Array(scores);
        bundle["safetyFlags"] = Array(await RowsAsync(conn, tx, """
            SELECT f.id, f.text_id, f.categories, f.status, f.created_at, f.reviewed_at FROM impact.safety_flags f JOIN impact.texts t ON t.id = f.text_id
             WHERE f.tenant_id = $1 AND t.person_id = $2 ORDER BY f.created_at
            """, tenantId, subject, r => new JsonObject
        {
            ["id"] = r.GetGuid(0), ["textId"] = r.GetGuid(1), ["categories"] = new JsonArray(r.GetFieldValue<string[]>(2).Select(c => (JsonNode?)c).ToArray()),
            ["status"] = r.GetString(3), ["createdAt"] = r.GetFieldValue<DateTimeOffset>(4), ["reviewedAt"] = r.IsDBNull(5) ? null : r.GetFieldValue<DateTimeOffset>(5),
        }, ct));
        bundle["privacyRequests"] = Array(await RowsAsync(conn, tx,
            "SELECT id, kind, status, requested_at, completed_at FROM impact.privacy_requests WHERE tenant_id = $1 AND subject_id = $2 ORDER BY requested_at",
            tenantId, subject, r => new JsonObject
            {
                ["id"] = r.GetGuid(0), ["kind"] = r.GetString(1), ["status"] = r.GetString(2), ["requestedAt"] = r.GetFieldValue<DateTimeOffset>(3),
                ["completedAt"] = r.IsDBNull(4) ? null : r.GetFieldValue<DateTimeOffset>(4),
            }, ct));
        bundle["personalDataAccess"] = Array(await RowsAsync(conn, tx,
            "SELECT field, purpose, actor, outcome, at FROM governance.pii_access_log WHERE tenant_id = $1 AND subject_id = $2 ORDER BY at, id",
            tenantId, subject, r => new JsonObject
            {
                ["field"] = r.GetString(0), ["purpose"] = r.GetString(1), ["actor"] = r.GetString(2), ["outcome"] = r.GetString(3),
                ["at"] = r.GetFieldValue<DateTimeOffset>(4),
            }, ct));
        return bundle;
    }

    private static JsonArray Array(List<JsonObject> rows) => new(rows.Select(r => (JsonNode?)r).ToArray());

    private static async Task<List<JsonObject>> RowsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, Guid tenantId, Guid subject,
        Func<NpgsqlDataReader, JsonObject> map, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = subject });
        var list = new List<JsonObject>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            list.Add(map(reader));
        }
        return list;
    }
}

public sealed record ErasureResult(bool KeyDestroyed, int ExternalIdsRemoved, int TextsKeptUnreadable, int ScoresKept, int EvidenceAnonymised, int SessionsKept,
    int PendingEventsDropped);

/// <summary>
/// Erasure by crypto-shredding: the data key is destroyed (every ciphertext under it — names, e-mail, texts,
/// evidence, old export bundles — becomes unreadable), the links back to the person (connector ids, e-mail index,
/// evidence hashes, journey) are removed, and the anonymous rows that feed aggregates (sessions, scores) stay,
/// so reports for past periods still add up.
/// </summary>
public static class SubjectErasure
{
    public static async Task<ErasureResult> EraseAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, Guid subject, string actor,
        CancellationToken ct)
    {
        async Task<int> Exec(string sql)
        {
            await using var cmd = new NpgsqlCommand(sql, conn, tx);
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = subject });
            return sql.StartsWith("SELECT", StringComparison.Ordinal) ? (int)(long)(await cmd.ExecuteScalarAsync(ct))! : await cmd.ExecuteNonQueryAsync(ct);
        }
        var destroyed = await Exec("UPDATE impact.person_keys SET wrapped_key = NULL, destroyed_at = now() WHERE tenant_id = $1 AND person_id = $2 AND wrapped_key IS NOT NULL");
        await Exec("UPDATE impact.people SET name_enc = NULL, email_enc = NULL, email_index = NULL, journey = '{}', erased_at = coalesce(erased_at, now()) WHERE tenant_id = $1 AND id = $2");
        // Events naming the person that were never applied: their bodies go (the id stays, so a redelivery is still a duplicate).
        var pending = await Exec($$"""
            UPDATE impact.domain_events e SET envelope = NULL, envelope_enc = NULL, person_refs = '{}', processed_at = now()
             WHERE e.tenant_id = $1 AND e.processed_at IS NULL AND {{SubjectExport.PendingEventsOf}}
            """);
        var ids = await Exec("DELETE FROM impact.external_ids WHERE tenant_id = $1 AND person_id = $2");
        var evidence = await Exec("""
            UPDATE impact.evidence_snippets e SET snippet_sha256 = NULL FROM impact.outcome_scores s
             WHERE e.outcome_score_id = s.id AND s.tenant_id = $1 AND s.person_id = $2 AND e.snippet_sha256 IS NOT NULL
            """);
        await Exec("UPDATE impact.texts SET status = 'erased' WHERE tenant_id = $1 AND person_id = $2 AND status IN ('pending', 'flagged')");
        await Exec("UPDATE impact.safety_flags f SET review_note = NULL FROM impact.texts t WHERE f.text_id = t.id AND t.tenant_id = $1 AND t.person_id = $2");
        var texts = await Exec("SELECT count(*) FROM impact.texts WHERE tenant_id = $1 AND person_id = $2 AND body_enc IS NOT NULL");
        var scores = await Exec("SELECT count(*) FROM impact.outcome_scores WHERE tenant_id = $1 AND person_id = $2");
        var sessions = await Exec("SELECT count(*) FROM impact.sessions WHERE tenant_id = $1 AND (participant_id = $2 OR volunteer_id = $2)");
        await using (var log = new NpgsqlCommand("""
            INSERT INTO governance.pii_access_log (tenant_id, subject_id, field, purpose, actor, outcome)
            SELECT $1, $2, f, 'gdpr-erasure', $3, 'erased' FROM unnest(ARRAY['name', 'email', 'text', 'evidence', 'export_bundle']) AS f
            """, conn, tx))
        {
            log.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            log.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = subject });
            log.Parameters.Add(new NpgsqlParameter<string> { TypedValue = actor });
            await log.ExecuteNonQueryAsync(ct);
        }
        return new ErasureResult(destroyed == 1, ids, texts, scores, evidence, sessions, pending);
    }
}
