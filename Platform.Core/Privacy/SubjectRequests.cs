using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Impact.Privacy;
using Platform.Core.Jobs;

namespace Platform.Core.Privacy;

/// <summary>
/// What one module holds about a person known by a user id, and how it exports and erases it. One implementation per
/// module (community members, conference attendees, civic residents); <see cref="SubjectRequests"/> and its job run
/// them the same way, in the shape of the impact module's privacy requests.
/// </summary>
public interface IPersonalDataModule
{
    /// <summary>The module's name in paths and request rows: <c>community</c>, <c>events</c>, <c>civic</c>.</summary>
    string Module { get; }

    /// <summary>Whether the module knows this user id at all (a request about nobody is a 404).</summary>
    Task<bool> HoldsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, string subject, CancellationToken ct);

    /// <summary>The module's sections of the export bundle.</summary>
    Task ExportAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, string subject, JsonObject bundle, CancellationToken ct);

    /// <summary>Erases the person from the module; rows kept for aggregates carry <paramref name="pseudonym"/> instead. Counts go into <paramref name="result"/>.</summary>
    Task EraseAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, string subject, string pseudonym, JsonObject result, CancellationToken ct);
}

public sealed record SubjectRequestArgs(Guid TenantId, Guid RequestId) : IJobArgs
{
    public static string Kind => "governance.subject-request";
}

public sealed record SubjectRequestBody(string? SubjectId);

public sealed record SubjectPrivacyRequest(Guid Id, string Module, string SubjectId, string Kind, string Status, string RequestedBy, JsonElement? Result,
    DateTimeOffset RequestedAt, DateTimeOffset? CompletedAt);

/// <summary>Export and erasure requests about a person of a module: a row (the audit trail) and a job, as in the impact module.</summary>
public sealed class SubjectRequests(NpgsqlDataSource dataSource, IEnumerable<IPersonalDataModule> modules, IJobQueue jobs)
{
    public IPersonalDataModule? Find(string module) => modules.FirstOrDefault(m => m.Module == module);

    public IEnumerable<string> Modules => modules.Select(m => m.Module);

    /// <summary>Null when the module holds nothing about the subject.</summary>
    public async Task<SubjectPrivacyRequest?> CreateAsync(Guid tenantId, IPersonalDataModule module, string subject, string kind, string requestedBy,
        CancellationToken ct)
    {
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (!await module.HoldsAsync(conn, tx, tenantId, subject, ct))
        {
            return null;
        }
        var id = Guid.CreateVersion7();
        await using (var cmd = new NpgsqlCommand("""
            INSERT INTO governance.subject_requests (id, tenant_id, module, subject_id, kind, requested_by) VALUES ($1, $2, $3, $4, $5, $6)
            """, conn, tx))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = module.Module });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = subject });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = kind });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = requestedBy });
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await jobs.EnqueueAsync(tx, new SubjectRequestArgs(tenantId, id), new JobOptions { MaxAttempts = 10 }, ct);
        await tx.CommitAsync(ct);
        return await FindAsync(tenantId, id, ct);
    }

    /// <summary>The request; a completed export carries its bundle in <c>result.bundle</c> until the bundle expires or the subject is erased.</summary>
    public async Task<SubjectPrivacyRequest?> FindAsync(Guid tenantId, Guid id, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, """
            SELECT id, module, subject_id, kind, status, requested_by, result::text, bundle::text, requested_at, completed_at
              FROM governance.subject_requests WHERE tenant_id = $1 AND id = $2
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct))
        {
            return null;
        }
        JsonElement? result = null;
        if (!r.IsDBNull(6))
        {
            var node = JsonNode.Parse(r.GetString(6))!.AsObject();
            if (r.GetString(3) == PrivacyKinds.Export && r.GetString(4) == "completed")
            {
                node["bundle"] = r.IsDBNull(7) ? null : JsonNode.Parse(r.GetString(7));
                if (r.IsDBNull(7))
                {
                    node["bundleUnavailable"] = "The bundle has expired or the subject has since been erased.";
                }
            }
            result = JsonSerializer.SerializeToElement(node);
        }
        return new SubjectPrivacyRequest(r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), result,
            r.GetFieldValue<DateTimeOffset>(8), r.IsDBNull(9) ? null : r.GetFieldValue<DateTimeOffset>(9));
    }

    /// <summary>A pseudonym no one can compute back to the user id: random, used once per erasure.</summary>
    public static string NewPseudonym() => "erased:" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
}

/// <summary>Runs a subject request: builds the bundle, or erases the person from the module and every common record, in one transaction.</summary>
public sealed partial class SubjectRequestHandler(NpgsqlDataSource dataSource, SubjectRequests requests, ILogger<SubjectRequestHandler> logger)
    : IJobHandler<SubjectRequestArgs>
{
    public const string FormatVersion = "subject-export/1";

    public async Task HandleAsync(SubjectRequestArgs args, JobContext context)
    {
        var ct = context.CancellationToken;
        await using var conn = await dataSource.OpenForTenantAsync(args.TenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        string moduleName, subject, kind;
        await using (var cmd = new NpgsqlCommand(
            "SELECT module, subject_id, kind FROM governance.subject_requests WHERE tenant_id = $1 AND id = $2 AND status = 'pending' FOR UPDATE", conn, tx))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = args.TenantId });
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = args.RequestId });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            if (!await r.ReadAsync(ct))
            {
                return; // done already: a retry after a commit whose acknowledgement was lost
            }
            (moduleName, subject, kind) = (r.GetString(0), r.GetString(1), r.GetString(2));
        }
        var module = requests.Find(moduleName) ?? throw new JobDiscardException($"No personal-data module '{moduleName}' in this build.");
        JsonObject result;
        JsonObject? bundle = null;
        if (kind == PrivacyKinds.Export)
        {
            bundle = new JsonObject
            {
                ["format"] = FormatVersion, ["module"] = moduleName, ["subjectId"] = subject, ["generatedAt"] = DateTimeOffset.UtcNow,
            };
            await module.ExportAsync(conn, tx, args.TenantId, subject, bundle, ct);
            await CommonRecords.ExportAsync(conn, tx, args.TenantId, subject, bundle, ct);
            result = new JsonObject { ["sections"] = new JsonArray(bundle.Select(p => (JsonNode?)p.Key).ToArray()) };
        }
        else
        {
            var pseudonym = SubjectRequests.NewPseudonym();
            result = new JsonObject();
            await module.EraseAsync(conn, tx, args.TenantId, subject, pseudonym, result, ct);
            await CommonRecords.EraseAsync(conn, tx, args.TenantId, subject, result, ct);
        }
        await using (var done = new NpgsqlCommand("""
            UPDATE governance.subject_requests SET status = 'completed', completed_at = now(), result = $3::jsonb, bundle = $4::jsonb
             WHERE tenant_id = $1 AND id = $2
            """, conn, tx))
        {
            done.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = args.TenantId });
            done.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = args.RequestId });
            done.Parameters.Add(new NpgsqlParameter<string> { TypedValue = result.ToJsonString() });
            done.Parameters.Add(new NpgsqlParameter { Value = (object?)bundle?.ToJsonString() ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            await done.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        LogCompleted(logger, moduleName, kind, args.RequestId, args.TenantId);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Subject {Module} {Kind} request {RequestId} of tenant {TenantId} completed")]
    private static partial void LogCompleted(ILogger logger, string module, string kind, Guid requestId, Guid tenantId);
}

/// <summary>Reads and writes of one subject's rows, shared by the modules ($1 tenant, $2 user id, $3 pseudonym where used).</summary>
public static class SubjectSql
{
    public static async Task<JsonArray> RowsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, Guid tenantId, string subject,
        CancellationToken ct)
    {
        // Rows come back as JSON built by PostgreSQL (row_to_json), so a section is exactly the stored columns.
        await using var cmd = new NpgsqlCommand($"SELECT coalesce(json_agg(row_to_json(x)), '[]')::text FROM ({sql}) x", conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = subject });
        return JsonNode.Parse((string)(await cmd.ExecuteScalarAsync(ct))!)!.AsArray();
    }

    public static async Task<int> ExecAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, Guid tenantId, string subject, string? pseudonym,
        CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = subject });
        if (pseudonym is not null)
        {
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = pseudonym });
        }
        return sql.TrimStart().StartsWith("SELECT", StringComparison.OrdinalIgnoreCase)
            ? Convert.ToInt32(await cmd.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture)
            : await cmd.ExecuteNonQueryAsync(ct);
    }
}

/// <summary>
/// Records of a person that every module shares (the user id is one across the tenant): consents, notification
/// records, notification settings and the e-mail address. Exported with every module's bundle and erased with every
/// module's erasure: an erasure request is about the person.
/// </summary>
public static class CommonRecords
{
    public static async Task ExportAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, string subject, JsonObject bundle, CancellationToken ct)
    {
        bundle["consents"] = await SubjectSql.RowsAsync(conn, tx,
            "SELECT purpose, granted, updated_at FROM governance.consents WHERE tenant_id = $1 AND user_id = $2 ORDER BY purpose", tenantId, subject, ct);
        bundle["notifications"] = await SubjectSql.RowsAsync(conn, tx, """
            SELECT o.id, o.subject_id, o.notification_type, o.payload, o.channels, o.created_at, o.read_at,
                   (SELECT coalesce(json_agg(json_build_object('channel', d.channel, 'state', d.state, 'sentAt', d.sent_at) ORDER BY d.id), '[]')
                      FROM ops.notification_deliveries d WHERE d.outbox_id = o.id) AS deliveries
              FROM ops.notification_outbox o WHERE o.tenant_id = $1 AND o.user_id = $2 ORDER BY o.id
            """, tenantId, subject, ct);
        bundle["notificationSettings"] = new JsonObject
        {
            ["preferences"] = await SubjectSql.RowsAsync(conn, tx,
                "SELECT enabled, pause_until, opted_out_types, updated_at FROM ops.notification_preferences WHERE tenant_id = $1 AND user_id = $2", tenantId, subject, ct),
            ["channels"] = await SubjectSql.RowsAsync(conn, tx,
                "SELECT notification_type, channel, enabled FROM ops.notification_channel_preferences WHERE tenant_id = $1 AND user_id = $2 ORDER BY 1, 2",
                tenantId, subject, ct),
            ["profile"] = await SubjectSql.RowsAsync(conn, tx,
                """
                SELECT email, email_status, time_zone, digest, digest_time, digest_weekday, quiet_start, quiet_end, updated_at
                  FROM ops.notification_profiles WHERE tenant_id = $1 AND user_id = $2
                """, tenantId, subject, ct),
            ["pushSubscriptions"] = await SubjectSql.RowsAsync(conn, tx,
                "SELECT endpoint, created_at FROM ops.push_subscriptions WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at", tenantId, subject, ct),
        };
    }

    public static async Task EraseAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, string subject, JsonObject result, CancellationToken ct)
    {
        result["consentsRemoved"] = await SubjectSql.ExecAsync(conn, tx, "DELETE FROM governance.consents WHERE tenant_id = $1 AND user_id = $2", tenantId, subject, null, ct);
        result["notificationsRemoved"] = await SubjectSql.ExecAsync(conn, tx, "SELECT ops.erase_notification_recipient($1, $2)", tenantId, subject, null, ct);
        var settings = 0;
        foreach (var table in new[]
                 {
                     "ops.notification_preferences", "ops.notification_channel_preferences", "ops.notification_profiles", "ops.push_subscriptions",
                     "ops.notification_digests",
                 })
        {
            settings += await SubjectSql.ExecAsync(conn, tx, $"DELETE FROM {table} WHERE tenant_id = $1 AND user_id = $2", tenantId, subject, null, ct);
        }
        result["notificationSettingsRemoved"] = settings;
        // Earlier export bundles are copies of the person's data: they go too (the request rows stay as the audit trail).
        result["exportBundlesRemoved"] = await SubjectSql.ExecAsync(conn, tx,
            "UPDATE governance.subject_requests SET bundle = NULL WHERE tenant_id = $1 AND subject_id = $2 AND bundle IS NOT NULL", tenantId, subject, null, ct);
    }
}

public static class PrivacyExtensions
{
    /// <summary>
    /// Export and erasure requests: the personal data of community members, conference attendees and civic residents,
    /// the request service and its job. Api and Worker both call this; only the Worker runs the job.
    /// </summary>
    public static IHostApplicationBuilder AddPrivacy(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPersonalDataModule, CommunityMemberData>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPersonalDataModule, ConferenceAttendeeData>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPersonalDataModule, CivicResidentData>());
        services.TryAddSingleton<SubjectRequests>();
        services.AddJobHandler<SubjectRequestArgs, SubjectRequestHandler>();
        return builder;
    }
}
