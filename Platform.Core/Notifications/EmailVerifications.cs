using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.Core.Data;

namespace Platform.Core.Notifications;

/// <summary>
/// The token of a confirmation link: <c>base64url(tenant ‖ verification id ‖ HMAC-SHA256(key, tenant ‖ id)[..16])</c>, the
/// key derived for this purpose from the unsubscribe key that Worker (writes the email) and Api (checks the link) share.
/// Being derived, the token is never stored: the verification row keeps its SHA-256 only.
/// </summary>
public sealed class EmailVerificationTokens(string key)
{
    private const int MacBytes = 16;
    private readonly byte[] _key = SHA256.HashData(Encoding.UTF8.GetBytes("email-verification\n" + key));

    public string Issue(Guid tenantId, Guid verificationId)
    {
        var data = new byte[32 + MacBytes];
        tenantId.TryWriteBytes(data.AsSpan(0, 16));
        verificationId.TryWriteBytes(data.AsSpan(16, 16));
        HMACSHA256.HashData(_key, data.AsSpan(0, 32)).AsSpan(0, MacBytes).CopyTo(data.AsSpan(32));
        return System.Buffers.Text.Base64Url.EncodeToString(data);
    }

    /// <summary>The tenant and verification a token names, or null when it is malformed or its MAC does not match.</summary>
    public (Guid TenantId, Guid VerificationId)? Read(string? token)
    {
        if (token is not { Length: 64 })
        {
            return null;
        }
        byte[] data;
        try
        {
            data = System.Buffers.Text.Base64Url.DecodeFromChars(token);
        }
        catch (FormatException)
        {
            return null;
        }
        if (data.Length != 32 + MacBytes
            || !CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(_key, data.AsSpan(0, 32)).AsSpan(0, MacBytes), data.AsSpan(32)))
        {
            return null;
        }
        return (new Guid(data.AsSpan(0, 16)), new Guid(data.AsSpan(16, 16)));
    }

    /// <summary>What is kept at rest: SHA-256 of the token's text.</summary>
    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}

/// <summary>What a confirmation link came to.</summary>
public enum EmailConfirmation
{
    Confirmed,
    /// <summary>Not a link of ours (malformed, altered, or unknown).</summary>
    Invalid,
    Expired,
    AlreadyUsed,
    /// <summary>The person has set another address since the link was sent.</summary>
    AddressChanged,
}

/// <summary>
/// Address verification: after a person sets an address, it receives mail other than safety alerts only once they
/// confirm it through a one-time link. The link is mailed through the notification outbox like any email (type
/// <see cref="Type"/>, email only); its token is derived when the email is written, so only its hash is stored.
/// </summary>
public sealed class EmailVerifications(NpgsqlDataSource db, NotificationOutbox outbox, EmailChannel email, IOptions<EmailOptions> options)
{
    public const string Type = "email.verify";

    /// <summary>Sends a confirmation link for <paramref name="address"/> (the person's current address).</summary>
    /// <returns>When the link expires.</returns>
    public async Task<DateTimeOffset> StartAsync(Guid tenantId, string userId, string address, CancellationToken ct = default)
    {
        var id = Guid.NewGuid();
        var expires = DateTimeOffset.UtcNow + options.Value.VerificationLifetime;
        await using var conn = await db.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var cmd = new NpgsqlCommand("""
            WITH link AS (
              INSERT INTO ops.email_verifications (id, tenant_id, user_id, email, token_hash, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
              RETURNING tenant_id, user_id, email)
            INSERT INTO ops.email_address_events (tenant_id, user_id, email, event, source)
            SELECT tenant_id, user_id, email, 'verification-sent', 'user' FROM link
            """, conn, tx))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = address });
            cmd.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = EmailVerificationTokens.Hash(email.Verification.Issue(tenantId, id)) });
            cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = expires });
            await cmd.ExecuteNonQueryAsync(ct);
        }
        // The payload names the verification and the address, never the token.
        await outbox.EnqueueAsync(tx, new Notification(tenantId, userId, $"email-verification:{id:N}", Type,
            JsonSerializer.SerializeToElement(new Dictionary<string, object?> { ["verificationId"] = id, ["email"] = address, ["expiresAt"] = expires }),
            NotificationChannels.Email), ct);
        await tx.CommitAsync(ct);
        return expires;
    }

    /// <summary>Confirms the address a link was sent to, once, before it expires, if it is still the person's address.</summary>
    public async Task<(EmailConfirmation Outcome, string? UserId)> ConfirmAsync(string? token, CancellationToken ct = default)
    {
        if (token is null || email.Verification.Read(token) is not { } named)
        {
            return (EmailConfirmation.Invalid, null);
        }
        await using var conn = await db.OpenForTenantAsync(named.TenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        string userId, address;
        await using (var find = new NpgsqlCommand("""
            SELECT user_id, email, expires_at < now(), confirmed_at IS NOT NULL FROM ops.email_verifications
            WHERE tenant_id = $1 AND id = $2 AND token_hash = $3 FOR UPDATE
            """, conn, tx))
        {
            find.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = named.TenantId });
            find.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = named.VerificationId });
            find.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = EmailVerificationTokens.Hash(token) });
            await using var r = await find.ExecuteReaderAsync(ct);
            if (!await r.ReadAsync(ct))
            {
                return (EmailConfirmation.Invalid, null);
            }
            (userId, address) = (r.GetString(0), r.GetString(1));
            if (r.GetBoolean(3))
            {
                return (EmailConfirmation.AlreadyUsed, userId);
            }
            if (r.GetBoolean(2))
            {
                return (EmailConfirmation.Expired, userId);
            }
        }
        await using (var confirm = new NpgsqlCommand("""
            WITH profile AS (
              UPDATE ops.notification_profiles SET email_verified_at = now(), updated_at = now()
              WHERE tenant_id = $1 AND user_id = $2 AND email = $3 RETURNING 1),
            link AS (UPDATE ops.email_verifications SET confirmed_at = now() WHERE id = $4 AND EXISTS (SELECT 1 FROM profile) RETURNING 1),
            audit AS (INSERT INTO ops.email_address_events (tenant_id, user_id, email, event, source)
                      SELECT $1, $2, $3, 'verified', 'user' FROM profile)
            SELECT count(*) FROM profile
            """, conn, tx))
        {
            confirm.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = named.TenantId });
            confirm.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
            confirm.Parameters.Add(new NpgsqlParameter<string> { TypedValue = address });
            confirm.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = named.VerificationId });
            if (Convert.ToInt64(await confirm.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture) == 0)
            {
                return (EmailConfirmation.AddressChanged, userId);
            }
        }
        await tx.CommitAsync(ct);
        return (EmailConfirmation.Confirmed, userId);
    }

    /// <summary>The link a confirmation email carries (Api's public URL).</summary>
    public static Uri Link(EmailChannel email, Guid tenantId, Guid verificationId) =>
        new($"{email.Options.PublicBaseUrl.TrimEnd('/')}/v1/email-verification?token={Uri.EscapeDataString(email.Verification.Issue(tenantId, verificationId))}");
}
