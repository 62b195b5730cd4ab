using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Jobs;

namespace Platform.Core.Community;

/// <summary>
/// Champion scoring. With a tenant: one scoring run (a stored ranking + provenance + Redis cache). Without (the
/// hourly schedule): one job per active tenant that has members or signals, each unique per tenant so a slow run
/// is never doubled.
/// </summary>
public sealed partial class ScoreChampionsHandler(ChampionScoring scoring, NpgsqlDataSource db, IJobQueue jobs) : IJobHandler<ScoreChampionsArgs>
{
    public async Task HandleAsync(ScoreChampionsArgs args, JobContext context)
    {
        if (args.TenantId is { } tenantId)
        {
            var summary = await scoring.ScoreAsync(tenantId, args.Actor, null, context.CancellationToken);
            LogRun(context.Logger, context.JobId, tenantId, summary.RankingId);
            return;
        }
        var tenants = new List<Guid>();
        // Which tenants to score: a scan over every tenant, then one job per tenant in its own scope.
        await using (var cmd = await db.CreateSystemCommandAsync("worker scan for tenants with community data", """
            SELECT t.id FROM core.tenants t WHERE t.status = 'active'
              AND (EXISTS (SELECT 1 FROM community.members m WHERE m.tenant_id = t.id) OR EXISTS (SELECT 1 FROM community.signals s WHERE s.tenant_id = t.id))
            """, context.CancellationToken))
        await using (var r = await cmd.ExecuteReaderAsync(context.CancellationToken))
        {
            while (await r.ReadAsync(context.CancellationToken)) tenants.Add(r.GetGuid(0));
        }
        await jobs.EnqueueManyAsync(tenants.Select(t => (new ScoreChampionsArgs(t, args.Actor),
            new JobOptions { MaxAttempts = 5, UniqueKey = $"score:{t}" })), null, context.CancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} scored tenant {TenantId}: ranking {RankingId}")]
    private static partial void LogRun(ILogger logger, string jobId, Guid tenantId, Guid rankingId);
}

/// <summary>Conversation activities → signals, on a short schedule; idempotent (sourceRef + cursor in one transaction).</summary>
public sealed class ExtractActivitySignalsHandler(ActivitySignals extraction) : IJobHandler<ExtractActivitySignalsArgs>
{
    public Task HandleAsync(ExtractActivitySignalsArgs args, JobContext context) => extraction.ExtractAsync(args.MaxConversations, context.CancellationToken);
}

/// <summary>Carries out an approved nudge; safe to run any number of times (<see cref="Nudges"/>).</summary>
public sealed partial class ExecuteNudgeHandler(Nudges nudges) : IJobHandler<ExecuteNudgeArgs>
{
    public async Task HandleAsync(ExecuteNudgeArgs args, JobContext context)
    {
        var execution = await nudges.ExecuteAsync(args.TenantId, args.ApprovalId, context.CancellationToken)
            ?? throw new JobDiscardException($"Approval {args.ApprovalId} is not an approved nudge.");
        LogExecuted(context.Logger, context.JobId, args.ApprovalId, execution.Status);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} executed nudge {ApprovalId}: {Status}")]
    private static partial void LogExecuted(ILogger logger, string jobId, Guid approvalId, string status);
}
