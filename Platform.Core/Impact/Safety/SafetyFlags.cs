using Npgsql;
using Platform.Core.Data;
using Platform.Core.Impact.Privacy;
using Platform.Core.Impact.Programs;
using Platform.Core.Jobs;

namespace Platform.Core.Impact.Safety;

public sealed record SafetyFlag(Guid Id, Guid TextId, Guid PersonId, string TextKind, IReadOnlyList<string> Categories, IReadOnlyList<string> Signals,
    string Status, string? Text, string? ReviewNote, DateTimeOffset CreatedAt, DateTimeOffset? ReviewedAt);

public enum ReviewOutcome { Reviewed, NotFound, AlreadyReviewed }

/// <summary>
/// The review queue. A reviewer sees the flagged text (a logged PII read). <c>clear</c> releases the text to
/// scoring; <c>confirm</c> excludes it from scoring for good.
/// </summary>
public sealed class SafetyFlags(NpgsqlDataSource dataSource, PiiVault vault, IJobQueue jobs)
{
    public Task<IReadOnlyList<SafetyFlag>> ListAsync(Guid tenantId, string? status, int limit, Guid? after, string actor, CancellationToken ct) =>
        ReadAsync(tenantId, status, limit, after, null, actor, ct);

    /// <summary>Some of a tenant's flags by id (the operator's cross-tenant queue reads the texts this way).</summary>
    public Task<IReadOnlyList<SafetyFlag>> ByIdsAsync(Guid tenantId, Guid[] ids, string actor, CancellationToken ct) =>
        ReadAsync(tenantId, null, ids.Length, null, ids, actor, ct);

    private async Task<IReadOnlyList<SafetyFlag>> ReadAsync(Guid tenantId, string? status, int limit, Guid? after, Guid[]? ids, string actor,
        CancellationToken ct)
    {
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        var rows = new List<(SafetyFlag Flag, byte[]? Body)>();
        await using (var cmd = new NpgsqlCommand("""
            SELECT f.id, f.text_id, t.person_id, t.kind, f.categories, f.signals, f.status, t.body_enc, f.review_note, f.created_at, f.reviewed_at
              FROM impact.safety_flags f JOIN impact.texts t ON t.id = f.text_id
             WHERE f.tenant_id = $1 AND ($2::text IS NULL OR f.status = $2) AND ($3::uuid IS NULL OR f.id > $3)
               AND ($5::uuid[] IS NULL OR f.id = ANY($5))
             ORDER BY f.id LIMIT $4
            """, conn))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            cmd.Parameters.Add(Db.Nullable(status, NpgsqlTypes.NpgsqlDbType.Text));
            cmd.Parameters.Add(Db.Nullable(after, NpgsqlTypes.NpgsqlDbType.Uuid));
            cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
            cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)ids ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Uuid });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                rows.Add((new SafetyFlag(reader.GetGuid(0), reader.GetGuid(1), reader.GetGuid(2), reader.GetString(3), reader.GetFieldValue<string[]>(4),
                    reader.GetFieldValue<string[]>(5), reader.GetString(6), null, reader.IsDBNull(8) ? null : reader.GetString(8),
                    reader.GetFieldValue<DateTimeOffset>(9), reader.IsDBNull(10) ? null : reader.GetFieldValue<DateTimeOffset>(10)),
                    reader.IsDBNull(7) ? null : reader.GetFieldValue<byte[]>(7)));
            }
        }
        var keyring = await vault.KeyringAsync(conn, null, tenantId, rows.Select(r => r.Flag.PersonId).ToArray(), "safety-review", actor, ct);
        var flags = rows.Select(r => r.Flag with { Text = keyring.Read(r.Flag.PersonId, "text", r.Body) }).ToList();
        await keyring.FlushAsync(conn, null, ct);
        return flags;
    }

    public async Task<ReviewOutcome> ReviewAsync(Guid tenantId, Guid flagId, bool clear, string? note, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        Guid textId;
        string status;
        await using (var cmd = new NpgsqlCommand("SELECT text_id, status FROM impact.safety_flags WHERE tenant_id = $1 AND id = $2 FOR UPDATE", conn, tx))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = flagId });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                return ReviewOutcome.NotFound;
            }
            textId = reader.GetGuid(0);
            status = reader.GetString(1);
        }
        if (status != "open")
        {
            return ReviewOutcome.AlreadyReviewed;
        }
        await using (var update = new NpgsqlCommand(
            "UPDATE impact.safety_flags SET status = $3, review_note = $4, reviewed_at = now() WHERE tenant_id = $1 AND id = $2", conn, tx))
        {
            update.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            update.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = flagId });
            update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = clear ? "cleared" : "confirmed" });
            update.Parameters.Add(Db.Nullable(note, NpgsqlTypes.NpgsqlDbType.Text));
            await update.ExecuteNonQueryAsync(ct);
        }
        await using (var text = new NpgsqlCommand("UPDATE impact.texts SET status = $3 WHERE tenant_id = $1 AND id = $2 AND status = 'flagged'", conn, tx))
        {
            text.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            text.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = textId });
            text.Parameters.Add(new NpgsqlParameter<string> { TypedValue = clear ? "pending" : "excluded" });
            await text.ExecuteNonQueryAsync(ct);
        }
        if (clear)
        {
            await jobs.EnqueueAsync(tx, new ScoreTextArgs(tenantId, textId), new JobOptions { MaxAttempts = 10 }, ct);
        }
        await tx.CommitAsync(ct);
        return ReviewOutcome.Reviewed;
    }
}
