using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using Platform.Core.Data;
using NpgsqlTypes;

namespace Platform.Core.Governance;

/// <summary>What a provenance event records: who did what to whom with which algorithm, and the inputs (as JSON).</summary>
public sealed record ProvenanceEntry(string Action, string Actor, string? SubjectId = null, string? Algorithm = null, string? Version = null,
    string DetailsJson = "{}", DateTimeOffset? ComputedAt = null);

/// <summary>A stored provenance event. <see cref="Hash"/> chains it to the tenant's previous event.</summary>
public sealed record ProvenanceEvent(Guid Id, long Seq, string Action, string? Algorithm, string? Version, string? SubjectId, string Actor,
    string Details, DateTimeOffset ComputedAt, string PrevHash, string Hash);

/// <summary>The short reference every computed response carries.</summary>
public sealed record ProvenanceRef(Guid EventId, string? Algorithm, string? Version, DateTimeOffset ComputedAt);

public sealed record ChainVerification(bool Ok, long Checked, Guid? FirstBrokenEventId);

/// <summary>Well-known provenance actions.</summary>
public static class ProvenanceActions
{
    public const string Ranking = "ranking.computed";
    public const string RankingRead = "ranking.read";
    public const string Recommendation = "recommendation";
    public const string ApprovalDecision = "approval.decided";
    public const string PersonalDataRead = "personal_data.read";
    public const string ConsentChanged = "consent.changed";
}

/// <summary>
/// The append-only, per-tenant hash-chained ledger of what the platform recommended and why, so a change to any past
/// entry breaks the chain. Appends take a per-tenant transaction advisory lock so seq is gapless and each row's
/// prev_hash is the hash of the row before it; verification recomputes every hash, so an edited, deleted or reordered row is found even when written by a connection
/// that bypassed the append-only trigger.
/// </summary>
public sealed class ProvenanceLedger(NpgsqlDataSource dataSource, TimeProvider time)
{
    public const string Genesis = "0000000000000000000000000000000000000000000000000000000000000000";

    public async Task<ProvenanceEvent> AppendAsync(Guid tenantId, ProvenanceEntry entry, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var e = await AppendAsync(conn, tx, tenantId, entry, ct);
        await tx.CommitAsync(ct);
        return e;
    }

    /// <summary>Appends inside the caller's transaction: the event exists only if the business write commits.</summary>
    public async Task<ProvenanceEvent> AppendAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, ProvenanceEntry entry, CancellationToken ct = default)
    {
        await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended('provenance:' || $1::text, 0))", conn, tx))
        {
            lockCmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            await lockCmd.ExecuteNonQueryAsync(ct);
        }
        long seq = 1;
        var prev = Genesis;
        await using (var last = new NpgsqlCommand(
            "SELECT seq, hash FROM governance.provenance_events WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1", conn, tx))
        {
            last.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            await using var r = await last.ExecuteReaderAsync(ct);
            if (await r.ReadAsync(ct))
            {
                seq = r.GetInt64(0) + 1;
                prev = r.GetString(1);
            }
        }
        // Microsecond precision: what PostgreSQL stores is what gets hashed.
        var at = Truncate(entry.ComputedAt ?? time.GetUtcNow());
        var id = Guid.CreateVersion7();
        var e = new ProvenanceEvent(id, seq, entry.Action, entry.Algorithm, entry.Version, entry.SubjectId, entry.Actor, entry.DetailsJson, at, prev, "");
        e = e with { Hash = HashOf(tenantId, e) };
        await using var insert = new NpgsqlCommand("""
            INSERT INTO governance.provenance_events (tenant_id, seq, id, action, algorithm, version, subject_id, actor, details, computed_at, prev_hash, hash)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            """, conn, tx);
        var p = insert.Parameters;
        p.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        p.Add(new NpgsqlParameter<long> { TypedValue = seq });
        p.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        p.Add(new NpgsqlParameter<string> { TypedValue = e.Action });
        p.Add(Text(e.Algorithm));
        p.Add(Text(e.Version));
        p.Add(Text(e.SubjectId));
        p.Add(new NpgsqlParameter<string> { TypedValue = e.Actor });
        p.Add(new NpgsqlParameter { Value = e.Details, NpgsqlDbType = NpgsqlDbType.Json });
        p.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = at });
        p.Add(new NpgsqlParameter<string> { TypedValue = prev });
        p.Add(new NpgsqlParameter<string> { TypedValue = e.Hash });
        await insert.ExecuteNonQueryAsync(ct);
        return e;
    }

    public const string Columns = "id, seq, action, algorithm, version, subject_id, actor, details::text, computed_at, prev_hash, hash";

    public static ProvenanceEvent Read(NpgsqlDataReader r) => new(
        r.GetGuid(0), r.GetInt64(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4),
        r.IsDBNull(5) ? null : r.GetString(5), r.GetString(6), r.GetString(7), r.GetFieldValue<DateTimeOffset>(8), r.GetString(9), r.GetString(10));

    public sealed record Query(string? SubjectId, string? Action, DateTimeOffset? From, DateTimeOffset? To, long AfterSeq, int Limit);

    /// <summary>A page of the tenant's events in chain order; the cursor is the last seq returned.</summary>
    public async Task<(IReadOnlyList<ProvenanceEvent> Items, long? Next)> ListAsync(Guid tenantId, Query q, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, $"""
            SELECT {Columns} FROM governance.provenance_events
            WHERE tenant_id = $1 AND seq > $2 AND ($3::text IS NULL OR subject_id = $3) AND ($4::text IS NULL OR action = $4)
              AND ($5::timestamptz IS NULL OR computed_at >= $5) AND ($6::timestamptz IS NULL OR computed_at < $6)
            ORDER BY seq LIMIT $7
            """, ct);
        var p = cmd.Parameters;
        p.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        p.Add(new NpgsqlParameter<long> { TypedValue = q.AfterSeq });
        p.Add(Text(q.SubjectId));
        p.Add(Text(q.Action));
        p.Add(new NpgsqlParameter { Value = (object?)q.From ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        p.Add(new NpgsqlParameter { Value = (object?)q.To ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        p.Add(new NpgsqlParameter<int> { TypedValue = q.Limit + 1 });
        var items = new List<ProvenanceEvent>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            items.Add(Read(r));
        }
        long? next = null;
        if (items.Count > q.Limit)
        {
            items.RemoveAt(items.Count - 1);
            next = items[^1].Seq;
        }
        return (items, next);
    }

    /// <summary>Walks the tenant's chain in seq order, recomputing each hash; stops at the first row that does not match.</summary>
    public async Task<ChainVerification> VerifyAsync(Guid tenantId, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, $"SELECT {Columns} FROM governance.provenance_events WHERE tenant_id = $1 ORDER BY seq", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var prev = Genesis;
        long expectedSeq = 1, checkedCount = 0;
        while (await r.ReadAsync(ct))
        {
            var e = Read(r);
            checkedCount++;
            // A gap in seq is a deleted row; a prev_hash that is not the previous hash is a reordered or forged link.
            if (e.Seq != expectedSeq || e.PrevHash != prev || HashOf(tenantId, e) != e.Hash)
            {
                return new ChainVerification(false, checkedCount, e.Id);
            }
            prev = e.Hash;
            expectedSeq++;
        }
        return new ChainVerification(true, checkedCount, null);
    }

    /// <summary>SHA-256 over the previous hash and every field, length-prefixed so no two rows serialise alike.</summary>
    public static string HashOf(Guid tenantId, ProvenanceEvent e)
    {
        var sb = new StringBuilder(256);
        void Field(string? s) => sb.Append(s is null ? "-1" : s.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(s).Append('|');
        Field(e.PrevHash);
        Field(tenantId.ToString());
        Field(e.Seq.ToString(CultureInfo.InvariantCulture));
        Field(e.Id.ToString());
        Field(e.Action);
        Field(e.Algorithm);
        Field(e.Version);
        Field(e.SubjectId);
        Field(e.Actor);
        Field(e.Details);
        Field((e.ComputedAt.UtcTicks / 10).ToString(CultureInfo.InvariantCulture));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    private static DateTimeOffset Truncate(DateTimeOffset t) => new(t.UtcTicks - t.UtcTicks % 10, TimeSpan.Zero);

    private static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    public static ProvenanceRef RefOf(ProvenanceEvent e) => new(e.Id, e.Algorithm, e.Version, e.ComputedAt);
}
