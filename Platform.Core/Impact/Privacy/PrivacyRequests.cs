using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Jobs;

namespace Platform.Core.Impact.Privacy;

public static class PrivacyKinds
{
    public const string Export = "export";
    public const string Delete = "delete";
}

public sealed record PrivacyRequestArgs(Guid TenantId, Guid RequestId) : IJobArgs
{
    public static string Kind => "impact.privacy-request";
    public static string Queue => "impact";
}

public sealed record PrivacyRequest(Guid Id, Guid SubjectId, string Kind, string Status, string RequestedBy, JsonElement? Result, DateTimeOffset RequestedAt,
    DateTimeOffset? CompletedAt);

/// <summary>
/// GDPR export (Art. 15/20) and erasure (Art. 17) of one person. Each request is a row (the audit trail: who,
/// when, what happened) and a job. The export bundle holds personal data, so it is stored encrypted under the
/// subject's own key: erasing the person later makes the old export unreadable too.
/// </summary>
public sealed class PrivacyRequests(NpgsqlDataSource dataSource, PiiVault vault, IJobQueue jobs)
{
    /// <summary>Null when the subject is not a person of this tenant.</summary>
    public async Task<PrivacyRequest?> CreateAsync(Guid tenantId, Guid subjectId, string kind, string requestedBy, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var exists = new NpgsqlCommand("SELECT 1 FROM impact.people WHERE tenant_id = $1 AND id = $2", conn, tx))
        {
            exists.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            exists.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = subjectId });
            if (await exists.ExecuteScalarAsync(ct) is null)
            {
                return null;
            }
        }
        var id = Guid.CreateVersion7();
        await using (var cmd = new NpgsqlCommand(
            "INSERT INTO impact.privacy_requests (id, tenant_id, subject_id, kind, requested_by) VALUES ($1, $2, $3, $4, $5)", conn, tx))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = subjectId });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = kind });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = requestedBy });
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await jobs.EnqueueAsync(tx, new PrivacyRequestArgs(tenantId, id), new JobOptions { MaxAttempts = 10 }, ct);
        await tx.CommitAsync(ct);
        return await FindAsync(tenantId, id, "privacy-status", requestedBy, ct);
    }

    /// <summary>The request; a completed export carries its bundle (decrypted now, and that read is logged).</summary>
    public async Task<PrivacyRequest?> FindAsync(Guid tenantId, Guid id, string purpose, string actor, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        await using var cmd = new NpgsqlCommand("""
            SELECT id, subject_id, kind, status, requested_by, result::text, requested_at, completed_at, bundle_enc
              FROM impact.privacy_requests WHERE tenant_id = $1 AND id = $2
            """, conn);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        PrivacyRequest request;
        byte[]? bundle;
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            if (!await reader.ReadAsync(ct))
            {
                return null;
            }
            request = new PrivacyRequest(reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.IsDBNull(5) ? null : JsonDocument.Parse(reader.GetString(5)).RootElement.Clone(), reader.GetFieldValue<DateTimeOffset>(6),
                reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7));
            bundle = reader.IsDBNull(8) ? null : reader.GetFieldValue<byte[]>(8);
        }
        if (bundle is null)
        {
            return request;
        }
        var keyring = await vault.KeyringAsync(conn, null, tenantId, [request.SubjectId], purpose, actor, ct);
        var json = keyring.Read(request.SubjectId, "export_bundle", bundle);
        await keyring.FlushAsync(conn, null, ct);
        var result = request.Result is { } r ? JsonNode.Parse(r.GetRawText())!.AsObject() : [];
        result["bundle"] = json is null ? null : JsonNode.Parse(json);
        if (json is null)
        {
            result["bundleUnreadable"] = "The subject has since been erased; the bundle's key no longer exists.";
        }
        return request with { Result = JsonSerializer.SerializeToElement(result) };
    }
}
