using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Impact.Privacy;
using Platform.Core.Security;

namespace Platform.Core.Identity;

/// <summary>An upstream OpenID provider a tenant's users may sign in with (<see cref="Name"/> is its slug in URLs: <c>google</c>).</summary>
public sealed record ExternalProvider(Guid TenantId, Guid Id, string Name, string DisplayName, string Issuer, string ClientId, bool HasSecret);

/// <summary>
/// What an upstream's discovery document says (only what the code flow and sign-out need). <see cref="EndSessionEndpoint"/>
/// is null when the upstream publishes none (or one the outbound rules refuse): signing out then ends only the local session.
/// </summary>
public sealed record ProviderMetadata(string Issuer, Uri AuthorizationEndpoint, Uri TokenEndpoint, Uri JwksUri, Uri? EndSessionEndpoint = null);

/// <summary>Who the upstream says signed in: its stable subject and, when it vouches for it, the address.</summary>
public sealed record ExternalIdentity(string Subject, string? Email, bool EmailVerified);

/// <summary>The sign-in with the upstream failed; the message is safe to show the person.</summary>
public sealed class ExternalSignInException(string message) : Exception(message);

/// <summary>
/// Federation with upstream OpenID providers per tenant: configuration (the client secret sealed by
/// <see cref="PiiVault"/>), discovery, the code exchange and the ID token's validation against the upstream's published
/// keys (signature, issuer, audience = our client id, lifetime, nonce), and linking the upstream account to a local user.
/// Every upstream URL is tenant-controlled and fetched through <see cref="OutboundHttp"/> (https, public addresses only).
/// </summary>
public sealed partial class ExternalProviders(NpgsqlDataSource dataSource, PiiVault vault, OutboundOptions outbound, ILogger<ExternalProviders> logger,
    TimeProvider? time = null)
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromMinutes(10);
    private const int MaxDocumentBytes = 256 * 1024;

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly HttpClient _http = OutboundHttp.CreateClient(outbound, followRedirects: false, TimeSpan.FromSeconds(10));
    private readonly JsonWebTokenHandler _handler = new();
    private readonly ConcurrentDictionary<string, (ProviderMetadata Metadata, DateTimeOffset FetchedAt)> _metadata = new();
    private readonly ConcurrentDictionary<string, (IReadOnlyList<SecurityKey> Keys, DateTimeOffset FetchedAt)> _keys = new();

    public bool CanSeal => vault.HasKey;

    /// <summary>Adds or replaces the provider <paramref name="name"/>; a null secret makes it a public client (PKCE only).</summary>
    public async Task SetAsync(Guid tenantId, string name, string displayName, string issuer, string clientId, string? secret, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        Guid id;
        await using (var find = new NpgsqlCommand("SELECT id FROM identity.external_providers WHERE tenant_id = $1 AND name = $2 FOR UPDATE", conn, tx))
        {
            find.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            find.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
            id = await find.ExecuteScalarAsync(ct) is Guid existing ? existing : Guid.CreateVersion7();
        }
        await using (var upsert = new NpgsqlCommand("""
            INSERT INTO identity.external_providers (tenant_id, id, name, display_name, issuer, client_id, client_secret_sealed)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (tenant_id, name) DO UPDATE SET display_name = $4, issuer = $5, client_id = $6, client_secret_sealed = $7, updated_at = now()
            """, conn, tx))
        {
            upsert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            upsert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            upsert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
            upsert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = displayName });
            upsert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = issuer });
            upsert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = clientId });
            upsert.Parameters.Add(new NpgsqlParameter
            {
                Value = secret is null ? DBNull.Value : vault.SealProviderSecret(secret, id), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bytea,
            });
            await upsert.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }

    public async Task<bool> DeleteAsync(Guid tenantId, string name, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId,
            "DELETE FROM identity.external_providers WHERE tenant_id = $1 AND name = $2", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        return await cmd.ExecuteNonQueryAsync(ct) > 0;
    }

    public async Task<IReadOnlyList<ExternalProvider>> ListAsync(Guid tenantId, CancellationToken ct) =>
        [.. (await ReadAsync(tenantId, null, ct)).Select(p => p.Provider)];

    /// <summary>The provider and its opened client secret (null for a public client).</summary>
    public async Task<(ExternalProvider Provider, string? Secret)?> FindAsync(Guid tenantId, string name, CancellationToken ct) =>
        (await ReadAsync(tenantId, name, ct)) is [var found] ? (found.Provider, found.Sealed is null ? null : vault.OpenProviderSecret(found.Sealed, found.Provider.Id)) : null;

    private async Task<List<(ExternalProvider Provider, byte[]? Sealed)>> ReadAsync(Guid tenantId, string? name, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, """
            SELECT id, name, display_name, issuer, client_id, client_secret_sealed FROM identity.external_providers
            WHERE tenant_id = $1 AND ($2::text IS NULL OR name = $2) ORDER BY display_name, name
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)name ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        var list = new List<(ExternalProvider, byte[]?)>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            var sealedSecret = r.IsDBNull(5) ? null : r.GetFieldValue<byte[]>(5);
            list.Add((new ExternalProvider(tenantId, r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), sealedSecret is not null),
                sealedSecret));
        }
        return list;
    }

    /// <summary>The upstream's discovery document (cached 10 minutes); its issuer must be the configured one.</summary>
    public async Task<ProviderMetadata> DiscoverAsync(string issuer, CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        if (_metadata.TryGetValue(issuer, out var cached) && now - cached.FetchedAt < CacheFor)
        {
            return cached.Metadata;
        }
        var url = new Uri(issuer.TrimEnd('/') + "/.well-known/openid-configuration");
        using var doc = JsonDocument.Parse(new ReadOnlyMemory<byte>(await GetAsync(url, ct)));
        var root = doc.RootElement;
        string Field(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
        if (Field("issuer") != issuer)
        {
            throw new ExternalSignInException("The provider's discovery document names another issuer.");
        }
        Uri Endpoint(string name) => Uri.TryCreate(Field(name), UriKind.Absolute, out var u) && OutboundHttp.WhyRefused(u, outbound, requireHttps: true) is null
            ? u
            : throw new ExternalSignInException($"The provider's {name} is missing or not allowed.");
        var endSession = Uri.TryCreate(Field("end_session_endpoint"), UriKind.Absolute, out var e) && OutboundHttp.WhyRefused(e, outbound, requireHttps: true) is null
            ? e
            : null;
        var metadata = new ProviderMetadata(issuer, Endpoint("authorization_endpoint"), Endpoint("token_endpoint"), Endpoint("jwks_uri"), endSession);
        _metadata[issuer] = (metadata, now);
        return metadata;
    }

    /// <summary>Exchanges the authorization code (with the PKCE verifier and the client's credentials) for the ID token.</summary>
    public async Task<string> RedeemCodeAsync(ExternalProvider provider, string? secret, ProviderMetadata metadata, string code, string redirectUri,
        string verifier, CancellationToken ct)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = redirectUri, ["code_verifier"] = verifier,
            ["client_id"] = provider.ClientId,
        };
        if (secret is not null)
        {
            form["client_secret"] = secret;
        }
        OutboundHttp.EnsureAllowed(metadata.TokenEndpoint, outbound, requireHttps: true);
        using var request = new HttpRequestMessage(HttpMethod.Post, metadata.TokenEndpoint) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        byte[] body;
        try
        {
            using var response = await _http.SendAsync(request, ct);
            body = await OutboundHttp.ReadCappedAsync(response.Content, MaxDocumentBytes, ct);
            if (!response.IsSuccessStatusCode)
            {
                LogUpstreamRefused(logger, provider.Issuer, (int)response.StatusCode);
                throw new ExternalSignInException("The provider refused the sign-in.");
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or OutboundRefusedException)
        {
            LogUpstreamUnreachable(logger, provider.Issuer, ex.Message);
            throw new ExternalSignInException("The provider could not be reached.");
        }
        try
        {
            using var doc = JsonDocument.Parse(new ReadOnlyMemory<byte>(body));
            return doc.RootElement.TryGetProperty("id_token", out var id) && id.ValueKind == JsonValueKind.String
                ? id.GetString()!
                : throw new ExternalSignInException("The provider sent no ID token.");
        }
        catch (JsonException)
        {
            throw new ExternalSignInException("The provider's answer was not readable.");
        }
    }

    /// <summary>Validates the ID token against the upstream's published keys: signature, issuer, audience, lifetime and nonce.</summary>
    public async Task<ExternalIdentity> ValidateIdTokenAsync(ExternalProvider provider, ProviderMetadata metadata, string idToken, string nonce,
        CancellationToken ct)
    {
        var keys = await KeysAsync(metadata.JwksUri, ct);
        var now = _time.GetUtcNow().UtcDateTime;
        var result = await _handler.ValidateTokenAsync(idToken, new TokenValidationParameters
        {
            ValidIssuer = provider.Issuer,
            ValidAudience = provider.ClientId,
            IssuerSigningKeys = keys,
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512, SecurityAlgorithms.EcdsaSha256,
                SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.RsaSsaPssSha256],
            RequireExpirationTime = true,
            ValidateLifetime = true,
            LifetimeValidator = (nbf, exp, _, _) => exp is { } e && e > now - TimeSpan.FromSeconds(60)
                && (nbf is null || nbf <= now + TimeSpan.FromSeconds(60)),
        });
        if (!result.IsValid)
        {
            LogIdTokenRefused(logger, provider.Issuer, result.Exception?.GetType().Name ?? "invalid");
            throw new ExternalSignInException("The provider's answer could not be verified.");
        }
        var jwt = (JsonWebToken)result.SecurityToken;
        if (!jwt.TryGetPayloadValue<string>("nonce", out var presented) || presented != nonce)
        {
            throw new ExternalSignInException("The provider's answer does not belong to this sign-in.");
        }
        var subject = jwt.Subject;
        if (string.IsNullOrEmpty(subject) || subject.Length > 255)
        {
            throw new ExternalSignInException("The provider's answer names no account.");
        }
        var email = jwt.TryGetPayloadValue<string>("email", out var e2) && e2.Length is >= 3 and <= 254 ? e2 : null;
        var verified = (jwt.TryGetPayloadValue<bool>("email_verified", out var flag) && flag)
            || (jwt.TryGetPayloadValue<string>("email_verified", out var text) && text == "true");
        return new ExternalIdentity(subject, email, verified);
    }

    /// <summary>
    /// The local user an upstream account signs in as: the one linked before; else the user with the same address when the
    /// upstream vouches for it (email_verified), now linked; else a new user (member) with that verified address. Null when
    /// the upstream does not vouch for an address and the account is not linked yet.
    /// </summary>
    public async Task<Guid?> SignInUserAsync(Guid tenantId, ExternalProvider provider, ExternalIdentity identity, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var linked = new NpgsqlCommand(
            "SELECT user_id FROM identity.external_logins WHERE tenant_id = $1 AND provider_id = $2 AND subject = $3", conn, tx))
        {
            linked.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            linked.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = provider.Id });
            linked.Parameters.Add(new NpgsqlParameter<string> { TypedValue = identity.Subject });
            if (await linked.ExecuteScalarAsync(ct) is Guid known)
            {
                return known;
            }
        }
        if (identity.Email is null || !identity.EmailVerified)
        {
            return null;
        }
        var userId = Guid.CreateVersion7();
        await using (var upsert = new NpgsqlCommand("""
            WITH created AS (
              INSERT INTO identity.users (tenant_id, id, email, email_normalized) VALUES ($1, $2, $3, $4)
              ON CONFLICT (tenant_id, email_normalized) DO NOTHING RETURNING id),
            member AS (
              INSERT INTO identity.memberships (tenant_id, user_id, role) SELECT $1, id, 'member' FROM created)
            SELECT id FROM created
            UNION ALL
            SELECT id FROM identity.users WHERE tenant_id = $1 AND email_normalized = $4
            LIMIT 1
            """, conn, tx))
        {
            upsert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            upsert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = userId });
            upsert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = identity.Email.Trim() });
            upsert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = IdentityUsers.Normalize(identity.Email) });
            userId = (Guid)(await upsert.ExecuteScalarAsync(ct))!;
        }
        await using (var link = new NpgsqlCommand("""
            INSERT INTO identity.external_logins (tenant_id, provider_id, subject, user_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING
            """, conn, tx))
        {
            link.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            link.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = provider.Id });
            link.Parameters.Add(new NpgsqlParameter<string> { TypedValue = identity.Subject });
            link.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = userId });
            await link.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return userId;
    }

    private async Task<IReadOnlyList<SecurityKey>> KeysAsync(Uri jwksUri, CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        var key = jwksUri.AbsoluteUri;
        if (_keys.TryGetValue(key, out var cached) && now - cached.FetchedAt < TimeSpan.FromMinutes(1))
        {
            return cached.Keys;
        }
        // Fetched again at most once a minute, so a rotated key is picked up at the next sign-in.
        var keys = new JsonWebKeySet(System.Text.Encoding.UTF8.GetString(await GetAsync(jwksUri, ct))).GetSigningKeys().ToArray();
        _keys[key] = (keys, now);
        return keys;
    }

    private async Task<byte[]> GetAsync(Uri url, CancellationToken ct)
    {
        try
        {
            OutboundHttp.EnsureAllowed(url, outbound, requireHttps: true);
            using var response = await _http.GetAsync(url, ct);
            response.EnsureSuccessStatusCode();
            return await OutboundHttp.ReadCappedAsync(response.Content, MaxDocumentBytes, ct);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or OutboundRefusedException or ArgumentException)
        {
            LogUpstreamUnreachable(logger, url.GetLeftPart(UriPartial.Path), ex.Message);
            throw new ExternalSignInException("The provider could not be reached.");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "External provider {Issuer} refused a code exchange ({Status})")]
    private static partial void LogUpstreamRefused(ILogger logger, string issuer, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "External provider at {Url} could not be reached: {Reason}")]
    private static partial void LogUpstreamUnreachable(ILogger logger, string url, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "An ID token of external provider {Issuer} was refused ({Reason})")]
    private static partial void LogIdTokenRefused(ILogger logger, string issuer, string reason);
}
