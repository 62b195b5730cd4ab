using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Impact.Privacy;
using Platform.Core.Jobs;

namespace Platform.Core.Impact.Programs;

/// <summary>Applies one stored domain event (by id) to the program data and the unified profile.</summary>
public sealed record ApplyDomainEventArgs(Guid TenantId, string EventId) : IJobArgs
{
    public static string Kind => "impact.domain-event";
    public static string Queue => "impact";
}

/// <summary>
/// Versioned envelopes <c>{type, data, metadata: {id, version, timestamp, correlationId, causationId}}</c>.
/// The webhook validates an envelope completely before storing it, so the job only ever sees envelopes it
/// knows; a reference to a person not yet known fails the attempt and is retried (events may arrive before
/// the registration they refer to).
/// </summary>
public static class DomainEvents
{
    public const string SupportedVersion = "v1";

    /// <summary>Type → required data fields.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Types = new Dictionary<string, string[]>
    {
        ["person.registered"] = ["personId", "role"],
        ["buddy.match.created"] = ["matchId", "participantId", "buddyId"],
        ["buddy.checkin.completed"] = ["checkinId", "participantId", "mood"],
        ["buddy.feedback.submitted"] = ["feedbackId", "fromId", "rating"],
        ["kintell.session.completed"] = ["sessionId", "participantId", "durationMinutes"],
        ["upskilling.course.completed"] = ["recordId", "participantId", "course"],
        ["upskilling.progress.updated"] = ["recordId", "participantId", "course", "progress"],
    };

    public sealed record Envelope(string Type, JsonElement Data, string Id, string Version, DateTimeOffset Timestamp, string? CorrelationId, string? CausationId);

    /// <summary>Parses and validates; returns the field and message of the first problem.</summary>
    public static (Envelope? Envelope, string? Field, string? Error) Parse(ReadOnlySpan<byte> body)
    {
        JsonElement root;
        try
        {
            root = JsonDocument.Parse(body.ToArray()).RootElement;
        }
        catch (JsonException)
        {
            return (null, "body", "The body is not valid JSON.");
        }
        if (root.ValueKind != JsonValueKind.Object)
        {
            return (null, "body", "The body must be an event envelope object.");
        }
        if (Str(root, "type") is not { } type || !Types.TryGetValue(type, out var required))
        {
            return (null, "type", $"type must be one of {string.Join(", ", Types.Keys)}.");
        }
        if (!root.TryGetProperty("metadata", out var meta) || meta.ValueKind != JsonValueKind.Object)
        {
            return (null, "metadata", "metadata {id, version, timestamp} is required.");
        }
        if (Str(meta, "id") is not { Length: > 0 and <= 200 } id)
        {
            return (null, "metadata.id", "metadata.id is required (at most 200 characters).");
        }
        if (Str(meta, "version") != SupportedVersion)
        {
            return (null, "metadata.version", $"metadata.version '{Str(meta, "version")}' is not supported; this receiver handles {SupportedVersion}.");
        }
        if (Str(meta, "timestamp") is not { } ts || !DateTimeOffset.TryParse(ts, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var timestamp))
        {
            return (null, "metadata.timestamp", "metadata.timestamp must be an ISO 8601 date-time.");
        }
        if (!root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object)
        {
            return (null, "data", "data must be an object.");
        }
        foreach (var field in required)
        {
            if (!data.TryGetProperty(field, out var value) || value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
            {
                return (null, $"data.{field}", $"data.{field} is required for {type}.");
            }
        }
        return (new Envelope(type, data.Clone(), id, SupportedVersion, timestamp, Str(meta, "correlationId"), Str(meta, "causationId")), null, null);
    }

    /// <summary>Data fields that name a person (connector ids), kept next to a sealed envelope so export and erasure find it.</summary>
    public static readonly string[] PersonFields = ["personId", "participantId", "buddyId", "fromId", "toId", "volunteerId"];

    public static string[] PersonRefs(Envelope e) =>
        PersonFields.Select(f => Str(e.Data, f)).OfType<string>().Where(v => v.Length > 0).Distinct(StringComparer.Ordinal).ToArray();

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Number => v.GetRawText(),
            _ => null,
        } : null;

    /// <summary>Applies an envelope through the same ingest path as CSV rows; returns the journey flags set.</summary>
    public static async Task ApplyAsync(ProgramIngest ingest, string source, Envelope e, CancellationToken ct)
    {
        var d = e.Data;
        var at = Date(d, "at") ?? e.Timestamp;
        switch (e.Type)
        {
            case "person.registered":
                var role = Str(d, "role")!;
                Check(await ingest.PersonAsync(new PersonRecord(source, Str(d, "personId")!, role, Str(d, "name"), Str(d, "email"), Str(d, "program"),
                    at), ct));
                break;
            case "buddy.match.created":
                var participant = await Require(ingest, source, Str(d, "participantId")!, ct);
                var buddy = await Require(ingest, source, Str(d, "buddyId")!, ct);
                await ingest.SetJourneyFlagsAsync(participant, new Dictionary<string, object> { ["buddyMatched"] = true, ["buddyMatchedAt"] = at }, ct);
                await ingest.SetJourneyFlagsAsync(buddy, new Dictionary<string, object> { ["isBuddy"] = true }, ct);
                break;
            case "buddy.checkin.completed":
                Check(await ingest.TextAsync(new TextRecord(source, Str(d, "checkinId")!, "checkin", Str(d, "participantId")!, null, at,
                    int.Parse(Str(d, "mood")!, CultureInfo.InvariantCulture), null, Str(d, "note")), ct));
                break;
            case "buddy.feedback.submitted":
                Check(await ingest.TextAsync(new TextRecord(source, Str(d, "feedbackId")!, "feedback", Str(d, "fromId")!, Str(d, "toId"), at, null,
                    decimal.Parse(Str(d, "rating")!, CultureInfo.InvariantCulture), Str(d, "text")), ct));
                break;
            case "kintell.session.completed":
                var program = Str(d, "program") ?? "language";
                Check(await ingest.SessionAsync(new SessionRecord(source, Str(d, "sessionId")!, program, Str(d, "participantId")!, Str(d, "volunteerId"), at,
                    int.Parse(Str(d, "durationMinutes")!, CultureInfo.InvariantCulture)), ct));
                var learner = await Require(ingest, source, Str(d, "participantId")!, ct);
                await ingest.SetJourneyFlagsAsync(learner, new Dictionary<string, object> { [$"{program}SessionCompleted"] = true, ["lastSessionAt"] = at }, ct);
                break;
            case "upskilling.course.completed":
                Check(await ingest.CourseAsync(new CourseRecord(source, Str(d, "recordId")!, Str(d, "participantId")!, Str(d, "course")!, 1m, at,
                    Str(d, "credential")), ct));
                var graduate = await Require(ingest, source, Str(d, "participantId")!, ct);
                await ingest.SetJourneyFlagsAsync(graduate, new Dictionary<string, object> { ["courseCompleted"] = true, ["lastCourseCompletedAt"] = at }, ct);
                break;
            case "upskilling.progress.updated":
                Check(await ingest.CourseAsync(new CourseRecord(source, Str(d, "recordId")!, Str(d, "participantId")!, Str(d, "course")!,
                    Math.Clamp(decimal.Parse(Str(d, "progress")!, CultureInfo.InvariantCulture), 0m, 1m), null, null), ct));
                break;
        }
    }

    private static DateTimeOffset? Date(JsonElement d, string name) =>
        Str(d, name) is { } s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var v) ? v : null;

    private static async Task<Guid> Require(ProgramIngest ingest, string source, string id, CancellationToken ct) =>
        await ingest.PersonOfAsync(source, id, "person", ct) ?? throw new InvalidOperationException($"{source} person '{id}' is not known yet.");

    private static void Check(IngestResult result)
    {
        if (result.Failed)
        {
            throw new InvalidOperationException(result.Error);
        }
    }
}

/// <summary>Webhook signature: <c>X-Impact-Signature: sha256=hex(HMAC-SHA256(secret, timestamp + "." + body))</c>.</summary>
public static class WebhookSignature
{
    public static readonly TimeSpan ReplayWindow = TimeSpan.FromMinutes(5);

    public static string Sign(string secret, long timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + ".");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message));
    }

    /// <summary>Null when valid, otherwise why not (for the rejection log; the caller only learns "401").</summary>
    public static string? Verify(string secret, string? timestampHeader, string? signatureHeader, ReadOnlySpan<byte> body, DateTimeOffset now)
    {
        if (!long.TryParse(timestampHeader, NumberStyles.None, CultureInfo.InvariantCulture, out var ts))
        {
            return "missing or malformed X-Impact-Timestamp";
        }
        if (signatureHeader is null || !signatureHeader.StartsWith("sha256=", StringComparison.Ordinal))
        {
            return "missing or malformed X-Impact-Signature";
        }
        var expected = Encoding.ASCII.GetBytes(Sign(secret, ts, body));
        if (!CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(signatureHeader)))
        {
            return "signature mismatch";
        }
        // Checked after the signature, so only a genuine but stale (replayed) request is reported as such.
        var age = now - DateTimeOffset.FromUnixTimeSeconds(ts);
        return age.Duration() > ReplayWindow ? $"timestamp outside the replay window ({(long)age.TotalSeconds} s)" : null;
    }
}

/// <summary>Webhook sources (their secrets) and the store of received events.</summary>
public sealed partial class ImpactWebhooks(NpgsqlDataSource dataSource, PiiVault vault, IJobQueue jobs, ILogger<ImpactWebhooks> logger)
{
    public async Task<string> IssueSecretAsync(Guid tenantId, string source, Guid companyId, CancellationToken ct)
    {
        var secret = "whs_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).Replace('+', '-').Replace('/', '_').TrimEnd('=');
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, """
            INSERT INTO impact.webhook_sources (tenant_id, source, company_id, secret_enc) VALUES ($1, $2, $3, $4)
            ON CONFLICT (tenant_id, source) DO UPDATE SET company_id = excluded.company_id, secret_enc = excluded.secret_enc, created_at = now()
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = source });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = companyId });
        cmd.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = vault.WrapSecret(secret, tenantId) });
        await cmd.ExecuteNonQueryAsync(ct);
        return secret;
    }

    public async Task<(string Secret, Guid CompanyId)?> FindSourceAsync(Guid tenantId, string source, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, "SELECT secret_enc, company_id FROM impact.webhook_sources WHERE tenant_id = $1 AND source = $2", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = source });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? (vault.UnwrapSecret(reader.GetFieldValue<byte[]>(0), tenantId), reader.GetGuid(1)) : null;
    }

    public async Task RejectAsync(Guid? tenantId, string source, string reason, string? remoteIp, CancellationToken ct)
    {
        LogRejected(logger, source, tenantId, reason, remoteIp);
        // One row per (tenant, source, reason, address, hour) with a count: a flood of bad requests costs a counter, not rows.
        const string Sql = """
            INSERT INTO impact.webhook_rejections (tenant_id, source, reason, remote_ip, window_start, last_at) VALUES ($1, $2, $3, $4, date_trunc('hour', now()), now())
            ON CONFLICT (tenant_id, source, reason, remote_ip, window_start) DO UPDATE SET attempts = impact.webhook_rejections.attempts + 1, last_at = now()
            """;
        // A request naming no known tenant is counted in a window of its own (tenant_id NULL), which no tenant scope can write.
        await using var cmd = tenantId is { } tenant
            ? await dataSource.CreateTenantCommandAsync(tenant, Sql, ct)
            : await dataSource.CreateSystemCommandAsync("impact webhook rejected before its tenant was known", Sql, ct);
        cmd.Parameters.Add(Db.Nullable(tenantId, NpgsqlTypes.NpgsqlDbType.Uuid));
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = source.Length > 40 ? source[..40] : source });
        // Variable details (a timestamp's age) would defeat the aggregation; the log line above keeps them.
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = reason.Split(" (")[0] });
        cmd.Parameters.Add(Db.Nullable(remoteIp, NpgsqlTypes.NpgsqlDbType.Text));
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Stores the envelope (sealed) and queues its job in one transaction; false when this event id was already received.</summary>
    public async Task<bool> ReceiveAsync(Guid tenantId, string source, Guid companyId, DomainEvents.Envelope e, string json, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var cmd = new NpgsqlCommand("""
            INSERT INTO impact.domain_events (tenant_id, event_id, source, company_id, type, version, envelope_enc, person_refs)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (tenant_id, event_id) DO NOTHING
            """, conn, tx))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.Id });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = source });
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = companyId });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.Type });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.Version });
            // Envelopes carry names, e-mails and notes: sealed at rest, and dropped once applied.
            cmd.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = vault.SealEnvelope(json, tenantId) });
            cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = DomainEvents.PersonRefs(e) });
            if (await cmd.ExecuteNonQueryAsync(ct) == 0)
            {
                return false;
            }
        }
        await jobs.EnqueueAsync(tx, new ApplyDomainEventArgs(tenantId, e.Id), new JobOptions { MaxAttempts = 12 }, ct);
        await tx.CommitAsync(ct);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Impact webhook from source {Source} (tenant {TenantId}) rejected: {Reason} (remote {RemoteIp})")]
    private static partial void LogRejected(ILogger logger, string source, Guid? tenantId, string reason, string? remoteIp);
}
