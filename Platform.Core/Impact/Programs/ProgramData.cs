using Npgsql;
using NpgsqlTypes;
using Platform.Core.Impact.Privacy;
using Platform.Core.Impact.Safety;
using Platform.Core.Jobs;
using Platform.Core.Notifications;

namespace Platform.Core.Impact.Programs;

public static class ImpactPrograms
{
    public static readonly IReadOnlyList<string> All = ["buddy", "language", "upskilling", "mentorship"];
    public static bool IsValid(string? program) => program is not null && All.Contains(program);
}

public static class PersonRoles
{
    public const string Participant = "participant";
    public const string Volunteer = "volunteer";
    public static bool IsValid(string? role) => role is Participant or Volunteer;
}

public sealed record PersonRecord(string Source, string ExternalId, string Role, string? Name, string? Email, string? Program, DateTimeOffset? EnrolledAt);

public sealed record SessionRecord(string Source, string ExternalId, string Program, string ParticipantId, string? VolunteerId, DateTimeOffset OccurredAt, int Minutes);

/// <summary>A check-in (mood 1–5 + note) or a feedback (peer rating 0–1 + text about <see cref="AboutId"/>).</summary>
public sealed record TextRecord(string Source, string ExternalId, string Kind, string PersonId, string? AboutId, DateTimeOffset OccurredAt, int? Mood,
    decimal? Rating, string? Body);

public sealed record CourseRecord(string Source, string ExternalId, string PersonId, string Course, decimal Progress, DateTimeOffset? CompletedAt,
    string? Credential);

public enum IngestOutcome { Inserted, Duplicate }

/// <summary>The result of one record: inserted, already there (idempotent re-delivery), or refused with a reason.</summary>
public readonly record struct IngestResult(IngestOutcome Outcome, string? Error, Guid? Id = null)
{
    public static IngestResult Fail(string error) => new(IngestOutcome.Duplicate, error);
    public bool Failed => Error is not null;
}

/// <summary>Scores one check-in or feedback text (queued on ingestion and after a safety review clears it).</summary>
public sealed record ScoreTextArgs(Guid TenantId, Guid TextId) : IJobArgs
{
    public static string Kind => "impact.score-text";
    public static string Queue => "impact";
}

/// <summary>Scores a batch of texts of one tenant in one transaction and one model pass (queued on ingestion).</summary>
public sealed record ScoreTextsArgs(Guid TenantId, Guid[] TextIds) : IJobArgs
{
    public static string Kind => "impact.score-texts";
    public static string Queue => "impact";
    /// <summary>Texts per job: large enough to fill a batch of the embedding model, small enough to keep a transaction short.</summary>
    public const int BatchSize = 256;
}

/// <summary>
/// Writes program data for one company inside one transaction: the single path for CSV imports and domain
/// events, so both map connector ids to people the same way. Each connector's <c>(source, external id)</c>
/// names one person; a new id whose e-mail matches a known person of the company joins that person (the
/// unified profile) instead of creating a second one. Texts are screened on the way in: a flagged text waits
/// for review; the others are queued for scoring when the transaction commits.
/// </summary>
public sealed class ProgramIngest(NpgsqlConnection conn, NpgsqlTransaction tx, PiiVault vault, Guid tenantId, Guid companyId)
{
    private readonly Dictionary<(string, string), (Guid Person, Guid Company)?> _people = [];
    private readonly Dictionary<Guid, byte[]?> _keys = [];
    private readonly List<ScoreTextArgs> _toScore = [];
    private readonly List<SafetyEscalationArgs> _toEscalate = [];

    public Guid CompanyId => companyId;

    public async Task<IngestResult> PersonAsync(PersonRecord r, CancellationToken ct)
    {
        if (await FindAsync(r.Source, r.ExternalId, ct) is { } known)
        {
            if (known.Company != companyId)
            {
                return IngestResult.Fail($"{r.Source} id '{r.ExternalId}' belongs to another company.");
            }
            var enrolled = r.Program is not null && await EnrollAsync(known.Person, r.Program, r.EnrolledAt, ct);
            return new IngestResult(enrolled ? IngestOutcome.Inserted : IngestOutcome.Duplicate, null, known.Person);
        }
        Guid? person = null;
        byte[]? index = r.Email is { Length: > 0 } email ? vault.EmailIndex(email) : null;
        if (index is not null)
        {
            await using var find = new NpgsqlCommand(
                "SELECT id FROM impact.people WHERE tenant_id = $1 AND company_id = $2 AND email_index = $3", conn, tx);
            find.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            find.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = companyId });
            find.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = index });
            person = await find.ExecuteScalarAsync(ct) as Guid?;
        }
        if (person is null)
        {
            var id = Guid.CreateVersion7();
            await using (var insert = new NpgsqlCommand(
                "INSERT INTO impact.people (id, tenant_id, company_id, role, email_index) VALUES ($1, $2, $3, $4, $5)", conn, tx))
            {
                insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
                insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
                insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = companyId });
                insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = r.Role });
                insert.Parameters.Add(Db.Nullable(index, NpgsqlDbType.Bytea));
                await insert.ExecuteNonQueryAsync(ct);
            }
            var key = await vault.CreateKeyAsync(conn, tx, tenantId, id, ct);
            _keys[id] = key;
            await using (var pii = new NpgsqlCommand("UPDATE impact.people SET name_enc = $2, email_enc = $3 WHERE id = $1", conn, tx))
            {
                pii.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
                pii.Parameters.Add(Db.Nullable(r.Name is { Length: > 0 } n ? PiiVault.Encrypt(key, n, id) : null, NpgsqlDbType.Bytea));
                pii.Parameters.Add(Db.Nullable(r.Email is { Length: > 0 } e ? PiiVault.Encrypt(key, e.Trim(), id) : null, NpgsqlDbType.Bytea));
                await pii.ExecuteNonQueryAsync(ct);
            }
            person = id;
        }
        await using (var map = new NpgsqlCommand(
            "INSERT INTO impact.external_ids (tenant_id, source, external_id, person_id) VALUES ($1, $2, $3, $4)", conn, tx))
        {
            map.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            map.Parameters.Add(new NpgsqlParameter<string> { TypedValue = r.Source });
            map.Parameters.Add(new NpgsqlParameter<string> { TypedValue = r.ExternalId });
            map.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = person.Value });
            await map.ExecuteNonQueryAsync(ct);
        }
        _people[(r.Source, r.ExternalId)] = (person.Value, companyId);
        if (r.Program is not null)
        {
            await EnrollAsync(person.Value, r.Program, r.EnrolledAt, ct);
        }
        return new IngestResult(IngestOutcome.Inserted, null, person);
    }

    public async Task<IngestResult> SessionAsync(SessionRecord r, CancellationToken ct)
    {
        if (await PersonOfAsync(r.Source, r.ParticipantId, "participant_id", ct) is not { } participant)
        {
            return IngestResult.Fail(UnknownPerson(r.Source, r.ParticipantId, "participant_id"));
        }
        Guid? volunteer = null;
        if (r.VolunteerId is { Length: > 0 })
        {
            volunteer = await PersonOfAsync(r.Source, r.VolunteerId, "volunteer_id", ct);
            if (volunteer is null)
            {
                return IngestResult.Fail(UnknownPerson(r.Source, r.VolunteerId, "volunteer_id"));
            }
        }
        await using var cmd = new NpgsqlCommand("""
            INSERT INTO impact.sessions (id, tenant_id, company_id, source, external_id, program, participant_id, volunteer_id, occurred_at, minutes)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (tenant_id, source, external_id) DO NOTHING
            """, conn, tx);
        var id = Guid.CreateVersion7();
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = companyId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = r.Source });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = r.ExternalId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = r.Program });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = participant });
        cmd.Parameters.Add(Db.Nullable(volunteer, NpgsqlDbType.Uuid));
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = r.OccurredAt.ToUniversalTime() });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = r.Minutes });
        var inserted = await cmd.ExecuteNonQueryAsync(ct) == 1;
        if (inserted)
        {
            await EnrollAsync(participant, r.Program, r.OccurredAt, ct);
        }
        return new IngestResult(inserted ? IngestOutcome.Inserted : IngestOutcome.Duplicate, null, inserted ? id : null);
    }

    public async Task<IngestResult> TextAsync(TextRecord r, CancellationToken ct)
    {
        var field = r.Kind == "feedback" ? "from_id" : "participant_id";
        if (await PersonOfAsync(r.Source, r.PersonId, field, ct) is not { } person)
        {
            return IngestResult.Fail(UnknownPerson(r.Source, r.PersonId, field));
        }
        Guid? about = null;
        if (r.AboutId is { Length: > 0 })
        {
            about = await PersonOfAsync(r.Source, r.AboutId, "about_id", ct);
            if (about is null)
            {
                return IngestResult.Fail(UnknownPerson(r.Source, r.AboutId, "about_id"));
            }
        }
        var verdict = SafetyScreen.Screen(r.Body);
        var key = await KeyAsync(person, ct);
        if (key is null && r.Body is { Length: > 0 })
        {
            return IngestResult.Fail($"{field} '{r.PersonId}' has been erased; no new text is stored about them.");
        }
        var id = Guid.CreateVersion7();
        var hasText = !string.IsNullOrWhiteSpace(r.Body);
        await using (var cmd = new NpgsqlCommand("""
            INSERT INTO impact.texts (id, tenant_id, company_id, source, external_id, kind, person_id, about_id, occurred_at, mood, rating, body_enc, status)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (tenant_id, source, external_id) DO NOTHING
            """, conn, tx))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = companyId });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = r.Source });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = r.ExternalId });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = r.Kind });
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = person });
            cmd.Parameters.Add(Db.Nullable(about, NpgsqlDbType.Uuid));
            cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = r.OccurredAt.ToUniversalTime() });
            cmd.Parameters.Add(Db.Nullable(r.Mood is { } m ? (short)m : null, NpgsqlDbType.Smallint));
            cmd.Parameters.Add(Db.Nullable(r.Rating, NpgsqlDbType.Numeric));
            cmd.Parameters.Add(Db.Nullable(hasText ? PiiVault.Encrypt(key!, r.Body!, person) : null, NpgsqlDbType.Bytea));
            // No text: nothing to score; the mood or rating still counts.
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = !hasText ? "scored" : verdict.Flagged ? "flagged" : "pending" });
            if (await cmd.ExecuteNonQueryAsync(ct) == 0)
            {
                return new IngestResult(IngestOutcome.Duplicate, null);
            }
        }
        if (hasText && verdict.Flagged)
        {
            await using var flag = new NpgsqlCommand("""
                INSERT INTO impact.safety_flags (id, tenant_id, text_id, categories, signals) VALUES ($1, $2, $3, $4, $5)
                """, conn, tx);
            var flagId = Guid.CreateVersion7();
            if (SafetyEscalation.ShouldEscalate([.. verdict.Categories], [.. verdict.Signals]))
            {
                // Self-harm or violence: the tenant's safety contacts hear at once (queued with the flag, sent if it commits).
                _toEscalate.Add(new SafetyEscalationArgs(tenantId, flagId, [.. verdict.Categories], [.. verdict.Signals]));
            }
            flag.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = flagId });
            flag.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            flag.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            flag.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = verdict.Categories.ToArray() });
            flag.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = verdict.Signals.ToArray() });
            await flag.ExecuteNonQueryAsync(ct);
        }
        else if (hasText)
        {
            _toScore.Add(new ScoreTextArgs(tenantId, id));
        }
        return new IngestResult(IngestOutcome.Inserted, null, id);
    }

    public async Task<IngestResult> CourseAsync(CourseRecord r, CancellationToken ct)
    {
        if (await PersonOfAsync(r.Source, r.PersonId, "participant_id", ct) is not { } person)
        {
            return IngestResult.Fail(UnknownPerson(r.Source, r.PersonId, "participant_id"));
        }
        // Progress only moves forward: a later record of the same enrolment updates it, an older one is a no-op.
        await using var cmd = new NpgsqlCommand("""
            INSERT INTO impact.course_progress (id, tenant_id, company_id, source, external_id, person_id, course, progress, completed_at, credential, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now())
            ON CONFLICT (tenant_id, source, external_id) DO UPDATE
               SET progress = excluded.progress, completed_at = coalesce(impact.course_progress.completed_at, excluded.completed_at),
                   credential = coalesce(excluded.credential, impact.course_progress.credential), updated_at = now()
             WHERE excluded.progress > impact.course_progress.progress
                OR (excluded.credential IS NOT NULL AND impact.course_progress.credential IS NULL)
            """, conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = Guid.CreateVersion7() });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = companyId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = r.Source });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = r.ExternalId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = person });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = r.Course });
        cmd.Parameters.Add(new NpgsqlParameter<decimal> { TypedValue = r.Progress });
        cmd.Parameters.Add(Db.Nullable(r.CompletedAt?.ToUniversalTime(), NpgsqlDbType.TimestampTz));
        cmd.Parameters.Add(Db.Nullable(r.Credential, NpgsqlDbType.Text));
        var changed = await cmd.ExecuteNonQueryAsync(ct) == 1;
        if (changed)
        {
            await EnrollAsync(person, "upskilling", r.CompletedAt, ct);
        }
        return new IngestResult(changed ? IngestOutcome.Inserted : IngestOutcome.Duplicate, null, person);
    }

    /// <summary>Sets journey flags on the unified profile (domain events).</summary>
    public async Task SetJourneyFlagsAsync(Guid personId, IReadOnlyDictionary<string, object> flags, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("UPDATE impact.people SET journey = journey || $3::jsonb WHERE tenant_id = $1 AND id = $2", conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = personId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = System.Text.Json.JsonSerializer.Serialize(flags) });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Queues scoring for the texts written so far, inside this transaction (they run only if it commits).</summary>
    public async Task<int> QueueScoringAsync(IJobQueue jobs, CancellationToken ct)
    {
        if (_toEscalate.Count > 0)
        {
            await jobs.EnqueueManyAsync(_toEscalate, new JobOptions { MaxAttempts = 20 }, tx, ct);
            _toEscalate.Clear();
        }
        if (_toScore.Count == 0)
        {
            return 0;
        }
        var batches = _toScore.Chunk(ScoreTextsArgs.BatchSize).Select(b => new ScoreTextsArgs(tenantId, [.. b.Select(a => a.TextId)])).ToList();
        await jobs.EnqueueManyAsync(batches, new JobOptions { Queue = "default", MaxAttempts = 10 }, tx, ct);
        var n = _toScore.Count;
        _toScore.Clear();
        return n;
    }

    public async Task<Guid?> PersonOfAsync(string source, string externalId, string field, CancellationToken ct)
    {
        var found = await FindAsync(source, externalId, ct);
        return found is { } f && f.Company == companyId ? f.Person : null;
    }

    private static string UnknownPerson(string source, string id, string field) =>
        $"{field} '{id}' is not a known {source} person of this company; import the person first.";

    private async Task<(Guid Person, Guid Company)?> FindAsync(string source, string externalId, CancellationToken ct)
    {
        if (_people.TryGetValue((source, externalId), out var cached))
        {
            return cached;
        }
        await using var cmd = new NpgsqlCommand("""
            SELECT p.id, p.company_id FROM impact.external_ids x JOIN impact.people p ON p.id = x.person_id
            WHERE x.tenant_id = $1 AND x.source = $2 AND x.external_id = $3
            """, conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = source });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = externalId });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        (Guid, Guid)? result = await reader.ReadAsync(ct) ? (reader.GetGuid(0), reader.GetGuid(1)) : null;
        _people[(source, externalId)] = result;
        return result;
    }

    private async Task<byte[]?> KeyAsync(Guid person, CancellationToken ct)
    {
        if (_keys.TryGetValue(person, out var key))
        {
            return key;
        }
        await using var cmd = new NpgsqlCommand("SELECT wrapped_key FROM impact.person_keys WHERE person_id = $1", conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = person });
        var wrapped = await cmd.ExecuteScalarAsync(ct) as byte[];
        key = wrapped is null ? null : vault.Unwrap(wrapped, person);
        _keys[person] = key;
        return key;
    }

    private async Task<bool> EnrollAsync(Guid person, string program, DateTimeOffset? at, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            INSERT INTO impact.enrollments (tenant_id, person_id, program, enrolled_at) VALUES ($1, $2, $3, coalesce($4, now()))
            ON CONFLICT (person_id, program) DO UPDATE SET enrolled_at = least(impact.enrollments.enrolled_at, excluded.enrolled_at)
               WHERE excluded.enrolled_at < impact.enrollments.enrolled_at
            """, conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = person });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = program });
        cmd.Parameters.Add(Db.Nullable(at?.ToUniversalTime(), NpgsqlDbType.TimestampTz));
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }
}
