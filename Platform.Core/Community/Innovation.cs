using System.Text.Json;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Community.Algorithms;
using Platform.Core.Notifications;

namespace Platform.Core.Community;

public sealed record Idea(Guid Id, string Title, string OriginatorId, string? Team, DateTimeOffset CreatedAt);

public sealed record SpreadNode(string UserId, string? SourceId, int Depth, DateTimeOffset At);

public sealed record IdeaSpread(Idea Idea, IReadOnlyList<SpreadNode> Lineage, int Reach, int Depth, int MaxBreadth, double StructuralVirality);

public enum AdoptionOutcome { Adopted, AlreadyAdopted, IdeaNotFound, UnknownSource }

/// <summary>
/// Innovation spread: ideas and who adopted them from whom. The lineage is a tree rooted at the originator;
/// reach, depth and structural virality (Goel et al. 2016) say whether an idea spread broadcast-like or person
/// to person. When an idea crosses the adoption threshold its team's leads are notified, once.
/// </summary>
public sealed partial class Innovation(NpgsqlDataSource dataSource, CommunityOptions options, NotificationOutbox outbox, ILogger<Innovation> logger)
{
    public async Task<Idea> CreateAsync(Guid tenantId, string title, string originatorId, string? team, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId,
            "INSERT INTO community.ideas (id, tenant_id, title, originator_id, team) VALUES ($1, $2, $3, $4, $5) RETURNING created_at", ct);
        var id = Guid.CreateVersion7();
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = title });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = originatorId });
        cmd.Parameters.Add(Members.Text(team));
        var at = (DateTime)(await cmd.ExecuteScalarAsync(ct))!;
        return new Idea(id, title, originatorId, team, new DateTimeOffset(at, TimeSpan.Zero));
    }

    public async Task<Idea?> FindAsync(Guid tenantId, Guid id, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, "SELECT id, title, originator_id, team, created_at FROM community.ideas WHERE tenant_id = $1 AND id = $2", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? new Idea(r.GetGuid(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3), r.GetFieldValue<DateTimeOffset>(4)) : null;
    }

    /// <summary>Records an adoption; the idea row lock serialises adoptions of one idea so the threshold fires exactly once.</summary>
    public async Task<(AdoptionOutcome Outcome, int Adoptions, IReadOnlyList<string> Notified)> AdoptAsync(Guid tenantId, Guid ideaId, string adopterId,
        string? sourceAdopterId, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        string? team; string originator; string title; bool notified;
        await using (var idea = new NpgsqlCommand(
            "SELECT team, originator_id, title, notified_at IS NOT NULL FROM community.ideas WHERE tenant_id = $1 AND id = $2 FOR UPDATE", conn, tx))
        {
            idea.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            idea.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = ideaId });
            await using var r = await idea.ExecuteReaderAsync(ct);
            if (!await r.ReadAsync(ct)) return (AdoptionOutcome.IdeaNotFound, 0, []);
            team = r.IsDBNull(0) ? null : r.GetString(0);
            originator = r.GetString(1);
            title = r.GetString(2);
            notified = r.GetBoolean(3);
        }
        if (sourceAdopterId is not null && sourceAdopterId != originator)
        {
            await using var src = new NpgsqlCommand("SELECT 1 FROM community.adoptions WHERE idea_id = $1 AND adopter_id = $2", conn, tx);
            src.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = ideaId });
            src.Parameters.Add(new NpgsqlParameter<string> { TypedValue = sourceAdopterId });
            if (await src.ExecuteScalarAsync(ct) is null) return (AdoptionOutcome.UnknownSource, 0, []);
        }
        if (adopterId == originator) return (AdoptionOutcome.AlreadyAdopted, 0, []);
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO community.adoptions (idea_id, tenant_id, adopter_id, source_adopter_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING
            """, conn, tx))
        {
            insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = ideaId });
            insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = adopterId });
            insert.Parameters.Add(Members.Text(sourceAdopterId == originator ? null : sourceAdopterId));
            if (await insert.ExecuteNonQueryAsync(ct) == 0) return (AdoptionOutcome.AlreadyAdopted, 0, []);
        }
        int count;
        await using (var c = new NpgsqlCommand("SELECT count(*) FROM community.adoptions WHERE idea_id = $1", conn, tx))
        {
            c.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = ideaId });
            count = (int)(long)(await c.ExecuteScalarAsync(ct))!;
        }
        var recipients = new List<string>();
        if (!notified && count >= options.AdoptionNotifyThreshold)
        {
            await using (var leads = new NpgsqlCommand("""
                SELECT user_id FROM community.members WHERE tenant_id = $1 AND 'team_lead' = ANY(roles) AND team IS NOT DISTINCT FROM $2 ORDER BY user_id
                """, conn, tx))
            {
                leads.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
                leads.Parameters.Add(Members.Text(team));
                await using var r = await leads.ExecuteReaderAsync(ct);
                while (await r.ReadAsync(ct)) recipients.Add(r.GetString(0));
            }
            var payload = JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["ideaId"] = ideaId, ["title"] = title, ["adoptions"] = count, ["threshold"] = options.AdoptionNotifyThreshold, ["team"] = team,
            });
            // Through the notification outbox in this transaction: sent only if the adoption commits, once per lead and idea.
            using var payloadDoc = JsonDocument.Parse(payload);
            foreach (var recipient in recipients)
            {
                await outbox.EnqueueAsync(tx, new Notification(tenantId, recipient, $"idea:{ideaId}", "community.idea_threshold", payloadDoc.RootElement,
                    NotificationChannels.All), ct);
            }
            await using var mark = new NpgsqlCommand("UPDATE community.ideas SET notified_at = now() WHERE id = $1", conn, tx);
            mark.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = ideaId });
            await mark.ExecuteNonQueryAsync(ct);
            LogThreshold(logger, ideaId, count, recipients.Count);
        }
        await tx.CommitAsync(ct);
        return (AdoptionOutcome.Adopted, count, recipients);
    }

    public async Task<IdeaSpread?> SpreadAsync(Guid tenantId, Guid ideaId, CancellationToken ct = default)
    {
        var idea = await FindAsync(tenantId, ideaId, ct);
        if (idea is null) return null;
        var adoptions = new List<(string Adopter, string? Source, DateTimeOffset At)>();
        await using (var cmd = await dataSource.CreateTenantCommandAsync(tenantId,
            "SELECT adopter_id, source_adopter_id, created_at FROM community.adoptions WHERE tenant_id = $1 AND idea_id = $2 ORDER BY created_at, adopter_id", ct))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = ideaId });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct)) adoptions.Add((r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1), r.GetFieldValue<DateTimeOffset>(2)));
        }
        // Node 0 is the originator; a source must have adopted before (checked on insert), so parents precede children.
        var index = new Dictionary<string, int>(StringComparer.Ordinal) { [idea.OriginatorId] = 0 };
        var parent = new List<int> { -1 };
        var depth = new List<int> { 0 };
        var lineage = new List<SpreadNode> { new(idea.OriginatorId, null, 0, idea.CreatedAt) };
        foreach (var (adopter, source, at) in adoptions)
        {
            var p = source is not null && index.TryGetValue(source, out var s) ? s : 0;
            index[adopter] = parent.Count;
            parent.Add(p);
            depth.Add(depth[p] + 1);
            lineage.Add(new SpreadNode(adopter, lineage[p].UserId, depth[p] + 1, at));
        }
        var v = StructuralVirality.Compute([.. parent]);
        return new IdeaSpread(idea, lineage, adoptions.Count, v.Depth, v.MaxBreadth, v.Virality);
    }

    public sealed record IdeaImpact(Guid IdeaId, string Title, bool Originated, long AdoptionsFromMe, long TotalAdoptions);

    /// <summary>Ideas a person originated, or through whom others adopted one ("where my contributions catalysed innovation").</summary>
    public async Task<IReadOnlyList<IdeaImpact>> ImpactOfAsync(Guid tenantId, string userId, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, """
            SELECT i.id, i.title, i.originator_id = $2,
                   count(*) FILTER (WHERE a.source_adopter_id = $2 OR (a.source_adopter_id IS NULL AND i.originator_id = $2)),
                   count(a.adopter_id)
            FROM community.ideas i LEFT JOIN community.adoptions a ON a.idea_id = i.id
            WHERE i.tenant_id = $1 AND (i.originator_id = $2 OR EXISTS (SELECT 1 FROM community.adoptions x WHERE x.idea_id = i.id AND x.source_adopter_id = $2))
            GROUP BY i.id, i.title, i.originator_id ORDER BY i.id
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        var list = new List<IdeaImpact>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct)) list.Add(new IdeaImpact(r.GetGuid(0), r.GetString(1), r.GetBoolean(2), r.GetInt64(3), r.GetInt64(4)));
        return list;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Idea {IdeaId} crossed the adoption threshold with {Adoptions} adoptions; {Recipients} team leads notified")]
    private static partial void LogThreshold(ILogger logger, Guid ideaId, int adoptions, int recipients);
}
