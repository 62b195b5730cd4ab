using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Notifications;

namespace Platform.Core.Identity;

/// <summary>What asking for a sign-in link did.</summary>
public enum SignInLinkOutcome
{
    /// <summary>A link was e-mailed (the address has an account).</summary>
    Sent,
    /// <summary>
    /// A sign-up link was e-mailed: no account has this address, and the tenant lets a link create one when it is used.
    /// The caller answers exactly as for <see cref="Sent"/>.
    /// </summary>
    SignUpSent,
    /// <summary>Nothing was sent: no account has this address. The caller answers exactly as for <see cref="Sent"/>.</summary>
    NoAccount,
    /// <summary>Too many links were asked for this address lately; nothing was stored or sent.</summary>
    RateLimited,
}

/// <summary>A used link: the account it signs in to, or (a sign-up link) the address the account is to be created for.</summary>
public sealed record RedeemedLink(Guid? UserId, string? SignUpEmail, string ReturnUrl);

/// <summary>The settings of sign-in links: how long one works and how many an address may ask for in a window.</summary>
public sealed record SignInLinkPolicy(TimeSpan Lifetime, int MaxPerWindow, TimeSpan Window);

/// <summary>
/// Passwordless sign-in: a one-time link e-mailed to the account's address through the notification outbox (type
/// <see cref="NotificationType"/>, email only). The link's token is 256 random bits; only its SHA-256 is stored, so the
/// table cannot be used to sign in. A link works once (redeeming marks it used in the same statement that checks it) and
/// only until it expires. Requests are rate-limited per address, counted alike for registered and unknown addresses so
/// the answer does not tell whether an address has an account.
/// </summary>
public sealed class SignInLinks(NpgsqlDataSource dataSource, NotificationOutbox outbox)
{
    /// <summary>The notification type of the e-mail; account messages go to the account's own address (docs/notifications.md).</summary>
    public const string NotificationType = AccountMessages.SignInLink;

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.ASCII.GetBytes(token));

    private const string SignUpRecipientPrefix = "sign-up:";

    /// <summary>
    /// The notification recipient of a sign-up link's e-mail: there is no user yet, so the link itself names the address
    /// (the Worker reads it from the link's row).
    /// </summary>
    public static string SignUpRecipient(Guid linkId) => SignUpRecipientPrefix + linkId;

    public static bool IsSignUpRecipient(string recipient, out Guid linkId)
    {
        linkId = Guid.Empty;
        return recipient.StartsWith(SignUpRecipientPrefix, StringComparison.Ordinal) && Guid.TryParse(recipient.AsSpan(SignUpRecipientPrefix.Length), out linkId);
    }

    /// <summary>Whether a link asked for an address without an account creates that account when it is used (off unless set).</summary>
    public async Task<bool> LinkSignUpAsync(Guid tenantId, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId,
            "SELECT coalesce((SELECT link_sign_up FROM identity.sign_up_settings WHERE tenant_id = $1), false)", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    public async Task SetLinkSignUpAsync(Guid tenantId, bool enabled, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, """
            INSERT INTO identity.sign_up_settings (tenant_id, link_sign_up) VALUES ($1, $2)
            ON CONFLICT (tenant_id) DO UPDATE SET link_sign_up = $2, updated_at = now()
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = enabled });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Records the request and, when the address has an account and the limit allows, stores a new link and enqueues its
    /// e-mail in the same transaction (the e-mail exists only if the link does). An address without an account gets a
    /// sign-up link only when the tenant allows signing up by link; otherwise only the request is recorded. <paramref name="linkUrl"/> turns the
    /// token into the absolute URL the e-mail carries.
    /// </summary>
    public async Task<SignInLinkOutcome> RequestAsync(Guid tenantId, string email, string returnUrl, SignInLinkPolicy policy,
        Func<string, string> linkUrl, string brandName, CancellationToken ct)
    {
        var normalized = IdentityUsers.Normalize(email);
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // One request per address at a time, so concurrent requests cannot both pass the limit.
        await using (var lockAddress = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", conn, tx))
        {
            lockAddress.Parameters.Add(new NpgsqlParameter<string> { TypedValue = $"sign-in-link:{tenantId}:{normalized}" });
            await lockAddress.ExecuteNonQueryAsync(ct);
        }
        await using (var count = new NpgsqlCommand("""
            SELECT count(*) FROM identity.sign_in_links WHERE tenant_id = $1 AND email_normalized = $2 AND created_at > now() - $3
            """, conn, tx))
        {
            count.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            count.Parameters.Add(new NpgsqlParameter<string> { TypedValue = normalized });
            count.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = policy.Window });
            if ((long)(await count.ExecuteScalarAsync(ct))! >= policy.MaxPerWindow)
            {
                return SignInLinkOutcome.RateLimited;
            }
        }
        Guid? userId = null;
        await using (var find = new NpgsqlCommand("SELECT id FROM identity.users WHERE tenant_id = $1 AND email_normalized = $2", conn, tx))
        {
            find.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            find.Parameters.Add(new NpgsqlParameter<string> { TypedValue = normalized });
            if (await find.ExecuteScalarAsync(ct) is Guid found)
            {
                userId = found;
            }
        }
        var signUp = false;
        if (userId is null)
        {
            await using var setting = new NpgsqlCommand(
                "SELECT coalesce((SELECT link_sign_up FROM identity.sign_up_settings WHERE tenant_id = $1), false)", conn, tx);
            setting.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            signUp = (bool)(await setting.ExecuteScalarAsync(ct))!;
        }
        var id = Guid.CreateVersion7();
        var token = userId is null && !signUp ? null : Base64Url(RandomNumberGenerator.GetBytes(32));
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO identity.sign_in_links (tenant_id, id, email_normalized, user_id, token_hash, return_url, expires_at, sign_up_email)
            VALUES ($1, $2, $3, $4, $5, $6, now() + $7, $8)
            """, conn, tx))
        {
            insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = normalized });
            insert.Parameters.Add(new NpgsqlParameter { Value = (object?)userId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
            insert.Parameters.Add(new NpgsqlParameter { Value = token is null ? DBNull.Value : Hash(token), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bytea });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = returnUrl });
            insert.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = policy.Lifetime });
            insert.Parameters.Add(new NpgsqlParameter { Value = signUp ? email.Trim() : DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            await insert.ExecuteNonQueryAsync(ct);
        }
        if (token is not null)
        {
            var minutes = (int)Math.Round(policy.Lifetime.TotalMinutes);
            var body = userId is null
                ? $"Open the link below within {minutes} minutes to create your account and sign in. It works once.\n\n"
                    + "If you did not ask for an account, ignore this e-mail: no account is created without the link."
                : $"Open the link below within {minutes} minutes to sign in. It works once.\n\n"
                    + "If you did not ask to sign in, ignore this e-mail: nobody can sign in without the link.";
            await outbox.EnqueueAsync(tx, new Notification(tenantId, userId?.ToString() ?? SignUpRecipient(id), $"sign-in-link:{id}", NotificationType,
                JsonSerializer.SerializeToElement(new Dictionary<string, string>
                {
                    ["title"] = $"Sign in to {brandName}", ["body"] = body, ["url"] = linkUrl(token),
                }), NotificationChannels.Email), ct);
        }
        await tx.CommitAsync(ct);
        return userId is not null ? SignInLinkOutcome.Sent : signUp ? SignInLinkOutcome.SignUpSent : SignInLinkOutcome.NoAccount;
    }

    /// <summary>
    /// Uses a link: the user (or, for a sign-up link, the address to create the account for) and the URL to continue at, or
    /// null when the token is unknown, already used or expired. Checking and marking it used is one statement, so two
    /// simultaneous uses cannot both succeed.
    /// </summary>
    public async Task<RedeemedLink?> RedeemAsync(Guid tenantId, string token, CancellationToken ct)
    {
        if (token.Length is < 20 or > 100)
        {
            return null;
        }
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, """
            UPDATE identity.sign_in_links SET used_at = now()
            WHERE tenant_id = $1 AND token_hash = $2 AND used_at IS NULL AND expires_at > now()
            RETURNING user_id, return_url, sign_up_email
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = Hash(token) });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct)
            ? new RedeemedLink(r.IsDBNull(0) ? null : r.GetGuid(0), r.IsDBNull(2) ? null : r.GetString(2), r.GetString(1))
            : null;
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
