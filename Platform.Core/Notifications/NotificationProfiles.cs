using Npgsql;
using NpgsqlTypes;
using Platform.Core.Data;

namespace Platform.Core.Notifications;

public static class DigestFrequencies
{
    public const string Off = "off";
    public const string Daily = "daily";
    public const string Weekly = "weekly";
    public static readonly IReadOnlyList<string> All = [Off, Daily, Weekly];
}

/// <summary>
/// Where and when a person receives mail. <paramref name="DigestWeekday"/> is ISO (1 = Monday … 7 = Sunday);
/// quiet hours are local times in <paramref name="TimeZone"/> (an IANA name) and may wrap midnight.
/// </summary>
public sealed record NotificationProfile(string? Email, string EmailStatus, string? EmailReason, string TimeZone, string Digest, TimeOnly DigestTime,
    int DigestWeekday, TimeOnly? QuietStart, TimeOnly? QuietEnd)
{
    public static readonly NotificationProfile Default = new(null, "active", null, "UTC", DigestFrequencies.Off, new TimeOnly(8, 0), 1, null, null);

    public bool CanReceiveEmail => Email is not null && EmailStatus == "active";

    /// <summary>When the current address was confirmed through its link; null: not (yet). Only safety alerts reach it until then.</summary>
    public DateTimeOffset? EmailVerifiedAt { get; init; }

    /// <summary>Whether <paramref name="now"/> falls inside the person's quiet hours.</summary>
    public bool IsQuiet(DateTimeOffset now)
    {
        if (QuietStart is not { } start || QuietEnd is not { } end || start == end)
        {
            return false;
        }
        var local = TimeOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, Zone()).DateTime);
        return start < end ? local >= start && local < end : local >= start || local < end;
    }

    /// <summary>The end of the quiet hours that contain <paramref name="now"/> (UTC), or <paramref name="now"/> when not quiet.</summary>
    public DateTimeOffset QuietUntil(DateTimeOffset now)
    {
        if (!IsQuiet(now))
        {
            return now;
        }
        var zone = Zone();
        var local = TimeZoneInfo.ConvertTime(now, zone);
        var endToday = local.Date + QuietEnd!.Value.ToTimeSpan();
        var end = endToday > local.DateTime ? endToday : endToday.AddDays(1);
        return new DateTimeOffset(end, zone.GetUtcOffset(end)).ToUniversalTime();
    }

    public TimeZoneInfo Zone() => TimeZoneInfo.TryFindSystemTimeZoneById(TimeZone, out var z) ? z : TimeZoneInfo.Utc;
}

/// <summary>Profiles (tenant-scoped, row-level security): reads and writes in the tenant's scope.</summary>
public sealed class NotificationProfiles(NpgsqlDataSource db)
{
    public async Task<NotificationProfile> GetAsync(Guid tenantId, string userId, CancellationToken ct = default)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenantId, """
            SELECT email, email_status, email_reason, time_zone, digest, digest_time, digest_weekday, quiet_start, quiet_end, email_verified_at
            FROM ops.notification_profiles WHERE tenant_id = $1 AND user_id = $2
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? WithVerified(r) : NotificationProfile.Default;
    }

    internal static NotificationProfile Read(NpgsqlDataReader r, int o = 0) => new(
        r.IsDBNull(o) ? null : r.GetString(o), r.GetString(o + 1), r.IsDBNull(o + 2) ? null : r.GetString(o + 2), r.GetString(o + 3), r.GetString(o + 4),
        r.GetFieldValue<TimeOnly>(o + 5), r.GetInt16(o + 6), r.IsDBNull(o + 7) ? null : r.GetFieldValue<TimeOnly>(o + 7),
        r.IsDBNull(o + 8) ? null : r.GetFieldValue<TimeOnly>(o + 8));

    /// <summary>
    /// Stores the profile; a changed email address starts active again (a new address deserves a try) and unconfirmed
    /// (<see cref="EmailVerifications"/> sends its link).
    /// </summary>
    public async Task<NotificationProfile> SaveAsync(Guid tenantId, string userId, NotificationProfile p, CancellationToken ct = default)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenantId, """
            INSERT INTO ops.notification_profiles AS p (tenant_id, user_id, email, time_zone, digest, digest_time, digest_weekday, quiet_start, quiet_end)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            ON CONFLICT (tenant_id, user_id) DO UPDATE SET
              email = EXCLUDED.email, time_zone = EXCLUDED.time_zone, digest = EXCLUDED.digest, digest_time = EXCLUDED.digest_time,
              digest_weekday = EXCLUDED.digest_weekday, quiet_start = EXCLUDED.quiet_start, quiet_end = EXCLUDED.quiet_end, updated_at = now(),
              email_status = CASE WHEN p.email IS DISTINCT FROM EXCLUDED.email THEN 'active' ELSE p.email_status END,
              email_reason = CASE WHEN p.email IS DISTINCT FROM EXCLUDED.email THEN NULL ELSE p.email_reason END,
              email_disabled_at = CASE WHEN p.email IS DISTINCT FROM EXCLUDED.email THEN NULL ELSE p.email_disabled_at END,
              email_verified_at = CASE WHEN p.email IS DISTINCT FROM EXCLUDED.email THEN NULL ELSE p.email_verified_at END
            RETURNING email, email_status, email_reason, time_zone, digest, digest_time, digest_weekday, quiet_start, quiet_end, email_verified_at
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)p.Email ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = p.TimeZone });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = p.Digest });
        cmd.Parameters.Add(new NpgsqlParameter<TimeOnly> { TypedValue = p.DigestTime });
        cmd.Parameters.Add(new NpgsqlParameter<short> { TypedValue = (short)p.DigestWeekday });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)p.QuietStart ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Time });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)p.QuietEnd ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Time });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        return WithVerified(r);
    }

    private static NotificationProfile WithVerified(NpgsqlDataReader r) =>
        Read(r) with { EmailVerifiedAt = r.IsDBNull(9) ? null : r.GetFieldValue<DateTimeOffset>(9) };

    /// <summary>
    /// The address is refused for good (a 5xx to RCPT TO, or a permanent bounce): stop mailing it, only if it is still
    /// the person's address and still active, and record why in the address events (one transaction).
    /// </summary>
    /// <returns>Whether the address was disabled now.</returns>
    public async Task<bool> DisableEmailAsync(Guid tenantId, string userId, string address, string reason, AddressEventSource source,
        CancellationToken ct = default)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenantId, """
            WITH disabled AS (
              UPDATE ops.notification_profiles SET email_status = 'disabled', email_reason = $4, email_disabled_at = now(), updated_at = now()
              WHERE tenant_id = $1 AND user_id = $2 AND lower(email) = lower($3) AND email_status = 'active'
              RETURNING tenant_id, user_id, email)
            INSERT INTO ops.email_address_events (tenant_id, user_id, email, event, source, delivery_id, status, detail)
            SELECT tenant_id, user_id, email, 'disabled', $5, $6, $7, left($4, 1000) FROM disabled
            """, ct);
        AddEventParameters(cmd, tenantId, userId, address, reason, source);
        return await cmd.ExecuteNonQueryAsync(ct) > 0;
    }

    /// <summary>Appends an address event that changes nothing else (a transient or stale bounce, a verification step).</summary>
    public async Task RecordEventAsync(Guid tenantId, string userId, string address, string @event, AddressEventSource source, string? detail,
        CancellationToken ct = default)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenantId, """
            INSERT INTO ops.email_address_events (tenant_id, user_id, email, event, source, delivery_id, status, detail)
            VALUES ($1, $2, left($3, 254), $8, $5, $6, $7, left($4, 1000))
            """, ct);
        AddEventParameters(cmd, tenantId, userId, address, detail, source);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = @event });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static void AddEventParameters(NpgsqlCommand cmd, Guid tenantId, string userId, string address, string? detail, AddressEventSource source)
    {
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = address });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)detail ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = source.Source });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)source.DeliveryId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)source.Status ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
    }
}

/// <summary>A tenant's email look; without a row the tenant's name and the default colour.</summary>
public sealed record NotificationBrand(string DisplayName, string AccentColor, string? Footer)
{
    public const string DefaultAccent = "#1f6feb";
}

public sealed class NotificationBranding(NpgsqlDataSource db)
{
    public async Task<NotificationBrand> GetAsync(Guid tenantId, CancellationToken ct = default)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenantId, """
            SELECT coalesce(b.display_name, t.name), coalesce(b.accent_color, $2), b.footer
            FROM core.tenants t LEFT JOIN ops.notification_branding b ON b.tenant_id = t.id WHERE t.id = $1
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = NotificationBrand.DefaultAccent });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct)
            ? new NotificationBrand(r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2))
            : new NotificationBrand("Platform", NotificationBrand.DefaultAccent, null);
    }

    public async Task<NotificationBrand> SaveAsync(Guid tenantId, NotificationBrand brand, CancellationToken ct = default)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenantId, """
            INSERT INTO ops.notification_branding (tenant_id, display_name, accent_color, footer) VALUES ($1, $2, $3, $4)
            ON CONFLICT (tenant_id) DO UPDATE SET display_name = EXCLUDED.display_name, accent_color = EXCLUDED.accent_color,
              footer = EXCLUDED.footer, updated_at = now()
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = brand.DisplayName });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = brand.AccentColor });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)brand.Footer ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        await cmd.ExecuteNonQueryAsync(ct);
        return brand;
    }
}
