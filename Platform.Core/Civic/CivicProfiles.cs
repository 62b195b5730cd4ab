using Npgsql;
using NpgsqlTypes;
using Platform.Core.Data;
using Platform.Core.Jobs;

namespace Platform.Core.Civic;

/// <summary>
/// A reader's civic profile (display name, e-mail, home city, notification settings), created on first read; deleting
/// it is a job that anonymises it in place.
/// </summary>
public sealed class ReaderProfiles(NpgsqlDataSource db, IJobQueue jobs)
{
    /// <summary>The profile with <paramref name="patch"/> applied (null: read it, creating it if needed).</summary>
    public async Task<ProfileView> UpsertAsync(Guid tenant, string userId, ProfilePatch? patch, CancellationToken ct)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenant, """
            INSERT INTO civic.profiles (tenant_id, user_id, display_name, email, home_city_id, notifications_enabled, pause_until)
            VALUES ($1, $2, $3, $4, $5, COALESCE($6, true), $7)
            ON CONFLICT (tenant_id, user_id) DO UPDATE SET
                display_name = COALESCE($3, civic.profiles.display_name),
                email = COALESCE($4, civic.profiles.email),
                home_city_id = COALESCE($5, civic.profiles.home_city_id),
                notifications_enabled = COALESCE($6, civic.profiles.notifications_enabled),
                pause_until = CASE WHEN $8 THEN NULL ELSE COALESCE($7, civic.profiles.pause_until) END,
                updated_at = CASE WHEN $9 THEN now() ELSE civic.profiles.updated_at END
            RETURNING user_id, display_name, email, home_city_id, notifications_enabled, pause_until
            """, ct);
        cmd.Parameters.Add(new() { Value = tenant });
        cmd.Parameters.Add(new() { Value = userId });
        cmd.Parameters.Add(new() { Value = (object?)patch?.DisplayName ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = (object?)patch?.Email ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = (object?)patch?.HomeCityId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        cmd.Parameters.Add(new() { Value = (object?)patch?.NotificationsEnabled ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Boolean });
        cmd.Parameters.Add(new() { Value = (object?)patch?.PauseUntil ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = patch?.ClearPause == true });
        cmd.Parameters.Add(new() { Value = patch is not null });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        return new ProfileView(r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2),
            r.IsDBNull(3) ? null : r.GetGuid(3), r.GetBoolean(4), r.IsDBNull(5) ? null : r.GetFieldValue<DateTimeOffset>(5));
    }

    /// <summary>Enqueues the anonymisation (one per reader: asking again while it waits is the same job).</summary>
    public Task<EnqueuedJob> RequestDeleteAsync(Guid tenant, string userId, CancellationToken ct)
    {
        var key = $"profile-delete:{tenant}:{userId}";
        return jobs.EnqueueAsync(new ProfileDeleteArgs(tenant, userId, key), new JobOptions { UniqueKey = key }, ct);
    }
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
    /// <summary>Anonymises profile $2 of tenant $1 in place under the stand-in $3 (shared by <c>DELETE /v1/civic/me</c> and privacy erasure).</summary>
    public const string AnonymiseSql = """
        UPDATE civic.profiles SET user_id = $3, display_name = NULL, email = NULL, home_city_id = NULL, notifications_enabled = false,
               pause_until = NULL, deleted_at = COALESCE(deleted_at, now()), updated_at = now()
        WHERE tenant_id = $1 AND user_id = $2
        """;

    /// <summary>A stable stand-in that no longer reveals the user id (kept so counts and provenance still add up).</summary>
    public static string AnonymousId(Guid tenantId, string userId) =>
        "deleted:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{tenantId}|{userId}")))[..24];
}
