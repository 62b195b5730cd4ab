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

/// <summary><c>civic.profile.delete</c>: anonymises a reader's civic profile (name, e-mail, home city, preferences; the id becomes a hash).</summary>
public sealed class ProfileDeleteHandler(NpgsqlDataSource db) : IJobHandler<ProfileDeleteArgs>
{
    public async Task HandleAsync(ProfileDeleteArgs args, JobContext context)
    {
        var anonymous = CivicProfiles.AnonymousId(args.TenantId, args.UserId);
        await using var cmd = await db.CreateTenantCommandAsync(args.TenantId, CivicProfiles.AnonymiseSql, context.CancellationToken);
        cmd.Parameters.Add(new() { Value = args.TenantId });
        cmd.Parameters.Add(new() { Value = args.UserId });
        cmd.Parameters.Add(new() { Value = anonymous });
        await cmd.ExecuteNonQueryAsync(context.CancellationToken);
    }
}

public static class CivicProfiles
{
    /// <summary>Anonymises profile $2 of tenant $1 in place under the stand-in $3 (shared by <c>DELETE /v1/me</c> and privacy erasure).</summary>
    public const string AnonymiseSql = """
        UPDATE civic.profiles SET user_id = $3, display_name = NULL, email = NULL, home_city_id = NULL, notifications_enabled = false,
               pause_until = NULL, deleted_at = COALESCE(deleted_at, now()), updated_at = now()
        WHERE tenant_id = $1 AND user_id = $2
        """;

    /// <summary>A stable stand-in that no longer reveals the user id (kept so counts and provenance still add up).</summary>
    public static string AnonymousId(Guid tenantId, string userId) =>
        "deleted:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{tenantId}|{userId}")))[..24];
}

public static class CivicExtensions
{
    private static CivicOptions Options(IHostApplicationBuilder builder)
    {
        var options = new CivicOptions();
        builder.Configuration.GetSection(CivicOptions.Section).Bind(options);
        return options;
    }

    private static SourceOptions SourceLimits(IHostApplicationBuilder builder)
    {
        var options = new SourceOptions();
        builder.Configuration.GetSection(SourceOptions.Section).Bind(options);
        return options;
    }

    /// <summary>What Api needs: options and the artifact store (for evidence and reruns).</summary>
    public static IHostApplicationBuilder AddCivicServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(Options(builder));
        builder.Services.AddSingleton(SourceLimits(builder));
        builder.Services.TryAddSingleton(OutboundOptions.From(builder.Configuration));
        builder.Services.AddSingleton<IArtifactStore, LocalFolderArtifactStore>();
        return builder;
    }

    /// <summary>The pipeline's job handlers and the every-minute check of per-city cron schedules (Worker).</summary>
    public static IHostApplicationBuilder AddCivicPipeline(this IHostApplicationBuilder builder)
    {
        var options = Options(builder);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<IArtifactStore, LocalFolderArtifactStore>();
        var outbound = OutboundOptions.From(builder.Configuration);
        // Feeds and their documents are tenant-controlled URLs: the outbound pipeline checks every hop; per-attempt timeouts are SourceReader's.
        builder.Services.AddSingleton(new SourceReader(options, SourceLimits(builder), outbound,
            OutboundHttp.CreateClient(outbound, followRedirects: true, Timeout.InfiniteTimeSpan)));
        if (string.IsNullOrEmpty(options.Generative.Endpoint))
        {
            builder.Services.AddSingleton<ISummarizer, ExtractiveSummarizerAdapter>();
        }
        else
        {
            // The model endpoint is the operator's configuration, not a tenant's URL, so it does not go through the outbound pipeline.
            builder.Services.AddSingleton(options.Generative);
            builder.Services.AddSingleton(GenerativeClients.Create(options.Generative));
            builder.Services.AddSingleton<ISummarizer, GenerativeSummarizer>();
        }
        builder.Services.AddSingleton<INotificationOutbox, SharedNotificationOutbox>();
        builder.Services.AddSingleton<RunLedger>();
        builder.Services.AddJobHandler<CityScanArgs, CityScanHandler>();
        builder.Services.AddJobHandler<MeetingIngestArgs, MeetingIngestHandler>();
        builder.Services.AddJobHandler<MeetingExtractArgs, MeetingExtractHandler>();
        builder.Services.AddJobHandler<MeetingSummarizeArgs, MeetingSummarizeHandler>();
        builder.Services.AddJobHandler<MeetingPublishArgs, MeetingPublishHandler>();
        builder.Services.AddJobHandler<CivicScanDueArgs, ScanDueHandler>();
        builder.Services.AddJobHandler<ProfileDeleteArgs, ProfileDeleteHandler>();
        builder.Services.AddRecurringJob("civic.scan-due", "0 * * * * ?", new CivicScanDueArgs());
        return builder;
    }
}

/// <summary>The <see cref="IChatClient"/> a configuration names.</summary>
public static class GenerativeClients
{
    public static Microsoft.Extensions.AI.IChatClient Create(GenerativeOptions options) =>
        Ai.ModelClients.CreateChat(options.Provider, options.Endpoint!, options.ApiKey, options.Model, options.Timeout);
}
