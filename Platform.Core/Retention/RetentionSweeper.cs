using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Jobs;

namespace Platform.Core.Retention;

/// <summary>Bounds of one sweep: rows per transaction and transactions per class and tenant.</summary>
public sealed record RetentionLimits(int BatchSize = 1000, int MaxBatchesPerClass = 200);

/// <summary>
/// Applies every tenant's keep periods: for each class, removes what is older than the horizon in batches of
/// <see cref="RetentionLimits.BatchSize"/> rows, one short transaction per batch (no lock held across batches, so
/// appends and reads go on), up to <see cref="RetentionLimits.MaxBatchesPerClass"/> batches; the next run continues.
/// Idempotent: a run repeated with the same horizon finds nothing left. Each (tenant, class) that lost rows gets
/// one ledger row in <c>governance.retention_runs</c>.
/// </summary>
public sealed partial class RetentionSweeper(NpgsqlDataSource dataSource, RetentionSettings settings, RetentionLimits limits, TimeProvider time,
    ILogger<RetentionSweeper> logger)
{
    /// <summary>Sweeps every tenant, or only <paramref name="onlyTenant"/>. Returns the ledger rows written.</summary>
    public async Task<IReadOnlyList<RetentionRun>> SweepAsync(Guid? onlyTenant, CancellationToken ct)
    {
        var tenants = new List<Guid>();
        await using (var cmd = dataSource.CreateCommand("SELECT id FROM core.tenants WHERE $1::uuid IS NULL OR id = $1 ORDER BY id"))
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)onlyTenant ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                tenants.Add(r.GetGuid(0));
            }
        }
        var runs = new List<RetentionRun>();
        foreach (var tenant in tenants)
        {
            foreach (var setting in await settings.ListAsync(tenant, ct))
            {
                var dataClass = RetentionClasses.Find(setting.DataClass)!;
                if (await ApplyAsync(tenant, dataClass, setting.KeepDays, ct) is { } run)
                {
                    runs.Add(run);
                }
            }
        }
        return runs;
    }

    private async Task<RetentionRun?> ApplyAsync(Guid tenantId, RetentionClass dataClass, int keepDays, CancellationToken ct)
    {
        var started = time.GetUtcNow();
        var horizon = started - TimeSpan.FromDays(keepDays);
        long total = 0;
        var batches = 0;
        var complete = true;
        foreach (var step in dataClass.Steps)
        {
            while (true)
            {
                if (batches >= limits.MaxBatchesPerClass)
                {
                    complete = false;
                    break;
                }
                var n = await BatchAsync(tenantId, step, horizon, ct);
                batches++;
                total += n;
                if (n < limits.BatchSize)
                {
                    break;
                }
            }
        }
        if (total == 0)
        {
            return null;
        }
        var run = new RetentionRun(Guid.CreateVersion7(), tenantId, dataClass.Name, dataClass.Action, keepDays, horizon, total, batches, complete, started,
            time.GetUtcNow());
        await using (var cmd = await dataSource.CreateTenantCommandAsync(tenantId, """
            INSERT INTO governance.retention_runs (id, tenant_id, data_class, action, keep_days, horizon, rows_affected, batches, complete, started_at, finished_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            """, ct))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = run.Id });
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = run.DataClass });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = run.Action });
            cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = keepDays });
            cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = horizon });
            cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = total });
            cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = batches });
            cmd.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = complete });
            cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = run.StartedAt });
            cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = run.FinishedAt });
            await cmd.ExecuteNonQueryAsync(ct);
        }
        LogApplied(logger, run.Action, total, dataClass.Name, tenantId, horizon, batches);
        return run;
    }

    /// <summary>One batch in its own transaction on a tenant-scoped connection.</summary>
    private async Task<int> BatchAsync(Guid tenantId, RetentionStep step, DateTimeOffset horizon, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using var cmd = new NpgsqlCommand(step.Sql, conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = horizon });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limits.BatchSize });
        var n = step.Scalar ? Convert.ToInt32(await cmd.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture) : await cmd.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
        return n;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention {Action} {Rows} rows of {DataClass} for tenant {TenantId} (before {Horizon}, {Batches} batches)")]
    private static partial void LogApplied(ILogger logger, string action, long rows, string dataClass, Guid tenantId, DateTimeOffset horizon, int batches);
}

/// <summary>The recurring retention sweep over every tenant.</summary>
public sealed record RetentionSweepArgs : IJobArgs
{
    public static string Kind => "governance.retention-sweep";
}

public sealed class RetentionSweepHandler(RetentionSweeper sweeper) : IJobHandler<RetentionSweepArgs>
{
    public Task HandleAsync(RetentionSweepArgs args, JobContext context) => sweeper.SweepAsync(null, context.CancellationToken);
}

public static class RetentionExtensions
{
    public const string Schedule = "governance.retention-sweep";

    /// <summary>
    /// Per-tenant keep periods per data class: the settings and ledger the API reads, and the sweep's handler with its
    /// schedule (hourly at minute 17, so a long backlog drains in bounded steps). Api and Worker both call this; only the
    /// Worker runs the job.
    /// </summary>
    public static IHostApplicationBuilder AddRetention(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.TryAddSingleton<RetentionSettings>();
        services.TryAddSingleton(new RetentionLimits());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RetentionSweeper>();
        services.AddJobHandler<RetentionSweepArgs, RetentionSweepHandler>();
        services.AddRecurringJob(Schedule, "0 17 * * * ?", new RetentionSweepArgs());
        return builder;
    }
}
