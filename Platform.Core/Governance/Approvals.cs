using System.Text.Json;
using Npgsql;
using Platform.Core.Community;
using Platform.Core.Data;
using Platform.Core.Jobs;

namespace Platform.Core.Governance;

/// <summary>Kinds of approval and, for each, which roles besides the subject may decide.</summary>
public static class ApprovalKinds
{
    /// <summary>Share the subject's profile outside their team/tenant app.</summary>
    public const string ProfileShare = "profile_share";
    /// <summary>Send the subject a nudge (e.g. "introduce A to B").</summary>
    public const string Nudge = "nudge";
    /// <summary>Publish the subject's recognition (champion shout-out).</summary>
    public const string RecognitionPublish = "recognition_publish";

    public static readonly IReadOnlyDictionary<string, string[]> DeciderRoles = new Dictionary<string, string[]>
    {
        [ProfileShare] = [],                       // only the subject shares their own profile
        [Nudge] = ["community_manager"],
        [RecognitionPublish] = ["community_manager"],
    };
}

public sealed record Approval(Guid Id, string Kind, string SubjectUserId, string RequestedBy, JsonElement Payload, string Status,
    string? DecidedBy, DateTimeOffset? DecidedAt, DateTimeOffset CreatedAt);

public enum ApprovalDecisionOutcome { Decided, NotFound, Forbidden, AlreadyDecided }

/// <summary>
/// Outbound shares and nudges wait here until the subject (or a role the kind names) decides; each decision is provenance.
/// Approving a nudge also enqueues its execution (<see cref="Nudges"/>) in the decision's transaction.
/// </summary>
public sealed class Approvals(NpgsqlDataSource dataSource, ProvenanceLedger ledger, IJobQueue jobs)
{
    private const string Columns = "id, kind, subject_user_id, requested_by, payload::text, status, decided_by, decided_at, created_at";

    public async Task<Approval> RequestAsync(Guid tenantId, string kind, string subjectUserId, string requestedBy, string payloadJson, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, $"""
            INSERT INTO governance.approvals (id, tenant_id, kind, subject_user_id, requested_by, payload) VALUES ($1, $2, $3, $4, $5, $6::jsonb)
            RETURNING {Columns}
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = Guid.CreateVersion7() });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = kind });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = subjectUserId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = requestedBy });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = payloadJson });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        return Read(r);
    }

    public async Task<Approval?> FindAsync(Guid tenantId, Guid id, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, $"SELECT {Columns} FROM governance.approvals WHERE tenant_id = $1 AND id = $2", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? Read(r) : null;
    }

    public async Task<IReadOnlyList<Approval>> OfSubjectAsync(Guid tenantId, string subjectUserId, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, $"SELECT {Columns} FROM governance.approvals WHERE tenant_id = $1 AND subject_user_id = $2 ORDER BY created_at", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = subjectUserId });
        var list = new List<Approval>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(Read(r));
        }
        return list;
    }

    /// <summary>Approve or deny: the status change and its provenance event commit together, once.</summary>
    public async Task<(ApprovalDecisionOutcome Outcome, Approval? Approval, ProvenanceEvent? Event)> DecideAsync(
        Guid tenantId, Guid id, bool approve, string decidedBy, IReadOnlyCollection<string> deciderRoles, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        Approval? current;
        await using (var find = new NpgsqlCommand($"SELECT {Columns} FROM governance.approvals WHERE tenant_id = $1 AND id = $2 FOR UPDATE", conn, tx))
        {
            find.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            find.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            await using var r = await find.ExecuteReaderAsync(ct);
            current = await r.ReadAsync(ct) ? Read(r) : null;
        }
        if (current is null)
        {
            return (ApprovalDecisionOutcome.NotFound, null, null);
        }
        var allowed = current.SubjectUserId == decidedBy ||
                      ApprovalKinds.DeciderRoles.GetValueOrDefault(current.Kind, []).Any(deciderRoles.Contains);
        if (!allowed)
        {
            return (ApprovalDecisionOutcome.Forbidden, current, null);
        }
        if (current.Status != "pending")
        {
            return (ApprovalDecisionOutcome.AlreadyDecided, current, null);
        }
        Approval decided;
        await using (var update = new NpgsqlCommand($"""
            UPDATE governance.approvals SET status = $3, decided_by = $4, decided_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING {Columns}
            """, conn, tx))
        {
            update.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            update.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = approve ? "approved" : "denied" });
            update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = decidedBy });
            await using var r = await update.ExecuteReaderAsync(ct);
            await r.ReadAsync(ct);
            decided = Read(r);
        }
        var details = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["approvalId"] = id, ["kind"] = current.Kind, ["decision"] = decided.Status, ["requestedBy"] = current.RequestedBy,
        });
        var e = await ledger.AppendAsync(conn, tx, tenantId,
            new ProvenanceEntry(ProvenanceActions.ApprovalDecision, decidedBy, current.SubjectUserId, "approval-policy", "approval-policy/1", details), ct);
        if (approve && current.Kind == ApprovalKinds.Nudge)
        {
            // The nudge runs only if the approval commits; the unique key and the execution row keep it to once.
            await jobs.EnqueueAsync(tx, new ExecuteNudgeArgs(tenantId, id), new JobOptions { UniqueKey = $"nudge:{id}", MaxAttempts = 10 }, ct);
        }
        await tx.CommitAsync(ct);
        return (ApprovalDecisionOutcome.Decided, decided, e);
    }

    private static Approval Read(NpgsqlDataReader r)
    {
        using var doc = JsonDocument.Parse(r.GetString(4));
        return new Approval(r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetString(3), doc.RootElement.Clone(), r.GetString(5),
            r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : r.GetFieldValue<DateTimeOffset>(7), r.GetFieldValue<DateTimeOffset>(8));
    }
}
