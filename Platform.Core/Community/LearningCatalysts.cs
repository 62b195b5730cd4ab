using System.Text.Json;
using Npgsql;
using Platform.Core.Data;

namespace Platform.Core.Community;

public sealed record LearningCatalyst(Guid Id, string Title, IReadOnlyList<string> Tags, IReadOnlyList<string> Contributors, JsonElement Outcomes,
    DateTimeOffset OccurredAt, string CreatedBy, DateTimeOffset CreatedAt);

/// <summary>Curated learning events: what was learned, who contributed, what came of it.</summary>
public sealed class LearningCatalysts(NpgsqlDataSource dataSource)
{
    private const string Columns = "id, title, tags, contributors, outcomes::text, occurred_at, created_by, created_at";

    public async Task<LearningCatalyst> CreateAsync(Guid tenantId, string title, IReadOnlyList<string> tags, IReadOnlyList<string> contributors,
        string outcomesJson, DateTimeOffset occurredAt, string createdBy, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, $"""
            INSERT INTO community.learning_catalysts (id, tenant_id, title, tags, contributors, outcomes, occurred_at, created_by)
            VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8) RETURNING {Columns}
            """, ct);
        var p = cmd.Parameters;
        p.Add(new NpgsqlParameter<Guid> { TypedValue = Guid.CreateVersion7() });
        p.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        p.Add(new NpgsqlParameter<string> { TypedValue = title });
        p.Add(new NpgsqlParameter<string[]> { TypedValue = [.. tags] });
        p.Add(new NpgsqlParameter<string[]> { TypedValue = [.. contributors] });
        p.Add(new NpgsqlParameter<string> { TypedValue = outcomesJson });
        p.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = occurredAt.ToUniversalTime() });
        p.Add(new NpgsqlParameter<string> { TypedValue = createdBy });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        return Read(r);
    }

    /// <summary>Newest first; optionally those with a tag, or those a contributor took part in.</summary>
    public async Task<IReadOnlyList<LearningCatalyst>> ListAsync(Guid tenantId, string? tag, string? contributor, int limit, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, $"""
            SELECT {Columns} FROM community.learning_catalysts
            WHERE tenant_id = $1 AND ($2::text IS NULL OR $2 = ANY(tags)) AND ($3::text IS NULL OR contributors @> ARRAY[$3])
            ORDER BY occurred_at DESC LIMIT $4
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(Members.Text(tag));
        cmd.Parameters.Add(Members.Text(contributor));
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        var list = new List<LearningCatalyst>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct)) list.Add(Read(r));
        return list;
    }

    public async Task<LearningCatalyst?> FindAsync(Guid tenantId, Guid id, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, $"SELECT {Columns} FROM community.learning_catalysts WHERE tenant_id = $1 AND id = $2", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? Read(r) : null;
    }

    private static LearningCatalyst Read(NpgsqlDataReader r)
    {
        using var doc = JsonDocument.Parse(r.GetString(4));
        return new LearningCatalyst(r.GetGuid(0), r.GetString(1), r.GetFieldValue<string[]>(2), r.GetFieldValue<string[]>(3), doc.RootElement.Clone(),
            r.GetFieldValue<DateTimeOffset>(5), r.GetString(6), r.GetFieldValue<DateTimeOffset>(7));
    }
}
