using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Jobs;
using Platform.Core.Security;

namespace Platform.Core.Civic;

/// <summary><c>civic.scan-due</c>: enqueues <c>city.scan</c> for every city whose own cron says it is due.</summary>
public sealed class ScanDueHandler(NpgsqlDataSource db, IJobQueue jobs) : IJobHandler<CivicScanDueArgs>
{
    public async Task HandleAsync(CivicScanDueArgs args, JobContext context)
    {
        var ct = context.CancellationToken;
        var due = new List<(Guid Id, Guid Tenant, string Cron)>();
        await using (var cmd = await db.CreateSystemCommandAsync("scheduler scan for cities of every tenant whose scan is due",
            "SELECT id, tenant_id, cron FROM civic.cities WHERE cron IS NOT NULL AND next_scan_at <= now()", ct))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                due.Add((r.GetGuid(0), r.GetGuid(1), r.GetString(2)));
            }
        }
        foreach (var city in due)
        {
            await using var conn = await db.OpenForTenantAsync(city.Tenant, ct);
            await using var tx = await conn.BeginTransactionAsync(ct);
            await using (var cmd = new NpgsqlCommand("UPDATE civic.cities SET next_scan_at = $2 WHERE id = $1", conn, tx))
            {
                cmd.Parameters.Add(new() { Value = city.Id });
                cmd.Parameters.Add(new() { Value = CivicCron.Next(city.Cron, DateTimeOffset.UtcNow) });
                await cmd.ExecuteNonQueryAsync(ct);
            }
            await jobs.EnqueueAsync(tx, new CityScanArgs(city.Tenant, city.Id, "cron", $"scan:{city.Id}", CivicJobOptions.CurrentTraceId()),
                new JobOptions { UniqueKey = $"scan:{city.Id}", MaxAttempts = 3 }, ct);
            await tx.CommitAsync(ct);
        }
    }
}

public static class CivicCron
{
    public static bool IsValid(string cron)
    {
        try
        {
            _ = Parse(cron);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    public static DateTimeOffset? Next(string cron, DateTimeOffset after) => Parse(cron).GetNextValidTimeAfter(after);

    /// <summary>A city's cadence is a Quartz cron expression (seconds first), evaluated in UTC.</summary>
    private static Quartz.CronExpression Parse(string cron) => new(cron, TimeZoneInfo.Utc);
}
