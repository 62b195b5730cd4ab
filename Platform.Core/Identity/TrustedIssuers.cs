using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Security;

namespace Platform.Core.Identity;

/// <summary>A tenant's own issuer whose tokens Api accepts as user tokens of that tenant.</summary>
public sealed record TrustedIssuer(Guid TenantId, string Issuer, string Audience, string JwksUri, string UserClaim, string? RolesClaim);

/// <summary>What a token of a trusted issuer grants: a user of one tenant, with the platform roles mapped from its claims.</summary>
public sealed record ExternalUser(Guid TenantId, string UserId, IReadOnlyList<string> Roles, DateTimeOffset ExpiresAt);

/// <summary>
/// Bring your own identity: a tenant names its issuer, an audience, the issuer's JWKS URL and which claims carry the user
/// and the roles. A presented JWT whose <c>iss</c> and <c>aud</c> match is validated against that JWKS (signature, issuer,
/// audience, lifetime). Keys are cached per JWKS URL for 10 minutes and fetched again (at most once a minute) when a token
/// names a key id the cache lacks, so the issuer can rotate keys. JWKS URLs are tenant-controlled: they are fetched
/// through <see cref="OutboundHttp"/> (public addresses only, https).
/// </summary>
public sealed partial class TrustedIssuers(NpgsqlDataSource dataSource, OutboundOptions outbound, ILogger<TrustedIssuers> logger, TimeProvider? time = null)
{
    private const string LookupScope = "token of a tenant's own issuer resolved before its tenant is known";
    private static readonly TimeSpan CacheFor = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan RefetchAtMostEvery = TimeSpan.FromMinutes(1);

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly HttpClient _http = OutboundHttp.CreateClient(outbound, followRedirects: false, TimeSpan.FromSeconds(10));
    private readonly JsonWebTokenHandler _handler = new();
    private readonly ConcurrentDictionary<string, (IReadOnlyList<SecurityKey> Keys, DateTimeOffset FetchedAt)> _keys = new();

    public async Task SetAsync(TrustedIssuer issuer, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(issuer.TenantId, """
            INSERT INTO identity.trusted_issuers (tenant_id, issuer, audience, jwks_uri, user_claim, roles_claim) VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (tenant_id, issuer) DO UPDATE SET audience = $3, jwks_uri = $4, user_claim = $5, roles_claim = $6
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = issuer.TenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = issuer.Issuer });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = issuer.Audience });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = issuer.JwksUri });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = issuer.UserClaim });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)issuer.RolesClaim ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task<bool> DeleteAsync(Guid tenantId, string issuer, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId,
            "DELETE FROM identity.trusted_issuers WHERE tenant_id = $1 AND issuer = $2", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = issuer });
        return await cmd.ExecuteNonQueryAsync(ct) > 0;
    }

    public async Task<IReadOnlyList<TrustedIssuer>> ListAsync(Guid tenantId, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, """
            SELECT tenant_id, issuer, audience, jwks_uri, user_claim, roles_claim FROM identity.trusted_issuers WHERE tenant_id = $1 ORDER BY issuer
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        return await ReadAsync(cmd, ct);
    }

    private static async Task<IReadOnlyList<TrustedIssuer>> ReadAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var list = new List<TrustedIssuer>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(new TrustedIssuer(r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5)));
        }
        return list;
    }

    /// <summary>The user a token of a tenant's trusted issuer stands for; null when no tenant trusts its issuer or it does not validate.</summary>
    public async Task<ExternalUser?> ValidateAsync(string token, CancellationToken ct)
    {
        if (!_handler.CanReadToken(token))
        {
            return null;
        }
        JsonWebToken unverified;
        try
        {
            unverified = new JsonWebToken(token);
        }
        catch (ArgumentException)
        {
            return null;
        }
        var issuer = unverified.Issuer;
        var audiences = unverified.Audiences.ToArray();
        if (string.IsNullOrEmpty(issuer) || audiences.Length == 0)
        {
            return null;
        }
        await using var cmd = await dataSource.CreateSystemCommandAsync(LookupScope, """
            SELECT tenant_id, issuer, audience, jwks_uri, user_claim, roles_claim FROM identity.trusted_issuers WHERE issuer = $1 AND audience = ANY($2)
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = issuer });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = audiences });
        foreach (var trusted in await ReadAsync(cmd, ct))
        {
            if (await ValidateWithAsync(trusted, token, unverified.Kid, ct) is { } user)
            {
                return user;
            }
        }
        return null;
    }

    private async Task<ExternalUser?> ValidateWithAsync(TrustedIssuer trusted, string token, string? kid, CancellationToken ct)
    {
        var keys = await KeysAsync(trusted.JwksUri, kid, ct);
        if (keys.Count == 0)
        {
            return null;
        }
        var result = await _handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = trusted.Issuer,
            ValidAudience = trusted.Audience,
            IssuerSigningKeys = keys,
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512, SecurityAlgorithms.EcdsaSha256,
                SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.RsaSsaPssSha256],
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = TimeSpan.FromSeconds(60),
            LifetimeValidator = (nbf, exp, _, _) => exp is { } e && e > _time.GetUtcNow().UtcDateTime - TimeSpan.FromSeconds(60)
                && (nbf is null || nbf <= _time.GetUtcNow().UtcDateTime + TimeSpan.FromSeconds(60)),
        });
        if (!result.IsValid)
        {
            return null;
        }
        var jwt = (JsonWebToken)result.SecurityToken;
        var userId = jwt.Claims.FirstOrDefault(c => c.Type == trusted.UserClaim)?.Value;
        if (string.IsNullOrWhiteSpace(userId) || userId.Length > 200)
        {
            return null;
        }
        var roles = trusted.RolesClaim is null
            ? []
            : jwt.Claims.Where(c => c.Type == trusted.RolesClaim).Select(c => c.Value)
                .Where(r => Roles.All.Contains(r.Split(':')[0]) && (Roles.Scoped.Contains(r.Split(':')[0]) == r.Contains(':', StringComparison.Ordinal)))
                .Distinct().ToArray();
        return new ExternalUser(trusted.TenantId, userId, roles, new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero));
    }

    private async Task<IReadOnlyList<SecurityKey>> KeysAsync(string jwksUri, string? kid, CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        if (_keys.TryGetValue(jwksUri, out var cached))
        {
            var fresh = now - cached.FetchedAt < CacheFor;
            var knowsKid = kid is null || cached.Keys.Any(k => k.KeyId == kid);
            if (fresh && (knowsKid || now - cached.FetchedAt < RefetchAtMostEvery))
            {
                return cached.Keys;
            }
        }
        try
        {
            var uri = new Uri(jwksUri);
            OutboundHttp.EnsureAllowed(uri, outbound, requireHttps: true);
            using var response = await _http.GetAsync(uri, ct);
            response.EnsureSuccessStatusCode();
            var json = await response.Content.ReadAsStringAsync(ct);
            if (json.Length > 256 * 1024)
            {
                throw new InvalidOperationException("the key set is larger than 256 KiB");
            }
            var keys = new JsonWebKeySet(json).GetSigningKeys().ToArray();
            _keys[jwksUri] = (keys, now);
            return keys;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or InvalidOperationException or ArgumentException
            or TaskCanceledException or System.Text.Json.JsonException)
        {
            LogKeysUnavailable(logger, jwksUri, ex.Message);
            return cached.Keys ?? [];
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Keys of a trusted issuer could not be fetched from {JwksUri}: {Reason}")]
    private static partial void LogKeysUnavailable(ILogger logger, string jwksUri, string reason);
}
