using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Platform.Core.Security;

/// <summary>
/// What a client token grants: one tenant, one user, and either one conversation or a set of roles; its kind
/// (<see cref="TokenKinds"/>), the credential it was minted under (<see cref="IssuedUnder"/>: it dies with it) and
/// when the first token of a refresh chain was minted.
/// </summary>
public sealed record ClientTokenClaims(Guid TenantId, string UserId, Guid? ConversationId, IReadOnlyList<string> Roles, DateTimeOffset ExpiresAt)
{
    public string Kind { get; init; } = TokenKinds.User;
    public string? IssuedUnder { get; init; }
    public DateTimeOffset? FirstIssuedAt { get; init; }
}

/// <summary>The kinds of client token; each stream accepts only its own.</summary>
public static class TokenKinds
{
    public const string Conversation = "conversation";
    public const string User = "user";
    public const string Attendee = "attendee";
}

/// <summary>
/// The credential a token was minted under, as carried in its <c>crd</c> claim: <c>k:{apiKeyId}</c> for a tenant API
/// key, <c>c:{channelId}:{secretVersion}</c> for a channel secret (the version is a prefix of the secret's hash, so a
/// rotation changes it). A token dies when that key is revoked or that secret rotated.
/// </summary>
public static class TokenOrigins
{
    public static string ApiKey(Guid apiKeyId) => $"k:{apiKeyId}";

    public static string ChannelSecret(Guid channelId, string secretHash) => $"c:{channelId}:{SecretVersion(secretHash)}";

    public static string SecretVersion(string secretHash) => secretHash[..16];

    /// <summary>A sign-in at the tenant's OpenID Connect issuer (the OpenIddict authorization): <c>a:{authorizationId}</c>.</summary>
    public static string Authorization(Guid authorizationId) => $"a:{authorizationId}";
}

public enum TokenValidationOutcome { Valid, Expired, Invalid }

public sealed record TokenValidation(TokenValidationOutcome Outcome, ClientTokenClaims? Claims, string? Error);

/// <summary>
/// Issues and validates client tokens (JWT) with a key set identified by <c>kid</c>: the first key that can sign signs,
/// every key validates, so keys rotate with overlap. ES256 when <c>Platform:Jwt:Keys:{n}:Id</c> with <c>:PrivateKey</c>
/// (PEM; Api only) or <c>:PublicKey</c> (PEM; Realtime) is configured: then only Api can mint, and the shared secret is
/// ignored. Otherwise the legacy shared HS256 key (<c>Platform:Jwt:SigningKey</c> or <c>:Keys:{n}:Key</c>), which every
/// holder can mint with. See docs/security.md.
/// </summary>
public sealed class ClientTokens
{
    public const string Issuer = "platform";
    public const string Audience = "platform-clients";
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromHours(1);
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromHours(24);

    private const string TenantClaim = "tid";
    private const string ConversationClaim = "cid";
    private const string RoleClaim = "roles";
    private const string KindClaim = "knd";
    private const string OriginClaim = "crd";
    private const string FirstIssuedClaim = "oiat";

    private readonly IReadOnlyList<SecurityKey> _keys;
    private readonly SigningCredentials? _signing;
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly TokenValidationParameters _validation;
    private readonly TimeProvider _time;

    /// <summary>Whether tokens are signed with ES256 (asymmetric keys configured) rather than the legacy shared HS256 key.</summary>
    public bool Asymmetric { get; }

    /// <summary>Whether this service can mint tokens (it holds a private or shared key); Realtime with public keys cannot.</summary>
    public bool CanIssue => _signing is not null;

    public ClientTokens(IConfiguration configuration, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        var asymmetric = new List<SecurityKey>();
        ECDsaSecurityKey? signer = null;
        var symmetric = new List<SymmetricSecurityKey>();
        foreach (var entry in configuration.GetSection("Platform:Jwt:Keys").GetChildren())
        {
            var id = entry["Id"] ?? $"k{asymmetric.Count + symmetric.Count + 1}";
            if (!string.IsNullOrWhiteSpace(entry["PrivateKey"]) || !string.IsNullOrWhiteSpace(entry["PublicKey"]))
            {
                var key = EcKey(id, entry["PrivateKey"], entry["PublicKey"]);
                asymmetric.Add(key);
                if (signer is null && !string.IsNullOrWhiteSpace(entry["PrivateKey"]))
                {
                    signer = key; // the first key with a private half signs; the others only validate (rotation overlap)
                }
            }
            else
            {
                symmetric.Add(Key(id, entry["Key"]));
            }
        }
        Asymmetric = asymmetric.Count > 0;
        if (Asymmetric)
        {
            // With asymmetric keys the shared secret is not trusted at all: a service holding it must not be able to mint.
            _keys = asymmetric;
            _signing = signer is null ? null : new SigningCredentials(signer, SecurityAlgorithms.EcdsaSha256);
        }
        else
        {
            if (symmetric.Count == 0)
            {
                symmetric.Add(Key("k1", configuration["Platform:Jwt:SigningKey"]));
            }
            _keys = symmetric;
            _signing = new SigningCredentials(symmetric[0], SecurityAlgorithms.HmacSha256);
        }
        _validation = new TokenValidationParameters
        {
            // Tokens minted by Api name the issuer "platform"; tokens of a tenant's OpenID Connect issuer (the same keys)
            // name that issuer, whose path ends in /t/{tenant id}/ and must be the tenant the token carries.
            IssuerValidator = (issuer, token, _) => issuer == Issuer || IsTenantIssuer(issuer, token)
                ? issuer
                : throw new SecurityTokenInvalidIssuerException("The token's issuer is not this platform's."),
            ValidAudience = Audience,
            IssuerSigningKeys = _keys,
            ValidAlgorithms = Asymmetric ? [SecurityAlgorithms.EcdsaSha256] : [SecurityAlgorithms.HmacSha256],
            ClockSkew = TimeSpan.FromSeconds(30),
            LifetimeValidator = (nbf, exp, _, _) => exp is { } e && e > _time.GetUtcNow().UtcDateTime - TimeSpan.FromSeconds(30),
            NameClaimType = JwtRegisteredClaimNames.Sub,
        };
    }

    /// <summary>Whether <paramref name="issuer"/> is the OpenID Connect issuer of the tenant the token names (…/t/{tid}/).</summary>
    public static bool IsTenantIssuer(string issuer, SecurityToken token) =>
        token is JsonWebToken jwt && jwt.TryGetPayloadValue<string>(TenantClaim, out var tid) && Guid.TryParse(tid, out var tenant)
        && Uri.TryCreate(issuer, UriKind.Absolute, out var uri)
        && uri.AbsolutePath.TrimEnd('/').EndsWith($"/t/{tenant}", StringComparison.OrdinalIgnoreCase);

    /// <summary>The signing key of ES256 tokens (null with the legacy shared key): the OpenID Connect issuers sign with it too.</summary>
    public SecurityKey? AsymmetricSigningKey => Asymmetric ? _signing?.Key : null;

    /// <summary>
    /// A symmetric key derived from the ES256 private key for one purpose (HKDF-SHA256), so a second secret need not be
    /// configured and rotated: the OpenID Connect issuers encrypt their codes and refresh tokens with it.
    /// </summary>
    public byte[]? DeriveKey(string purpose)
    {
        if (AsymmetricSigningKey is not ECDsaSecurityKey { ECDsa: var ec })
        {
            return null;
        }
        var d = ec.ExportParameters(true).D!;
        return HKDF.DeriveKey(HashAlgorithmName.SHA256, d, 32, info: Encoding.UTF8.GetBytes(purpose));
    }

    /// <summary>A P-256 key from PEM: the private key (PKCS#8 or SEC1; its public half follows) or only the public key (SPKI).</summary>
    private static ECDsaSecurityKey EcKey(string id, string? privatePem, string? publicPem)
    {
        var ec = ECDsa.Create();
        try
        {
            ec.ImportFromPem(!string.IsNullOrWhiteSpace(privatePem) ? privatePem : publicPem);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            throw new InvalidOperationException($"Platform:Jwt:Keys key '{id}' is not a PEM P-256 key: {ex.Message}", ex);
        }
        if (ec.KeySize != 256)
        {
            throw new InvalidOperationException($"Platform:Jwt:Keys key '{id}' must be a P-256 key (ES256).");
        }
        return new ECDsaSecurityKey(ec) { KeyId = id };
    }

    /// <summary>A new ES256 key pair as PEM (private PKCS#8, public SPKI), for configuration.</summary>
    public static (string PrivatePem, string PublicPem) GenerateKeyPair()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return (ec.ExportPkcs8PrivateKeyPem(), ec.ExportSubjectPublicKeyInfoPem());
    }

    private static SymmetricSecurityKey Key(string id, string? secret)
    {
        if (string.IsNullOrEmpty(secret) || Encoding.UTF8.GetByteCount(secret) < 32)
        {
            throw new InvalidOperationException(
                "Platform:Jwt:SigningKey (or Platform:Jwt:Keys:n:Key) must be set to at least 32 bytes; it signs client tokens.");
        }
        return new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret)) { KeyId = id };
    }

    /// <summary>Clamps a requested lifetime to (0, 24 h]; null means the 1 hour default.</summary>
    public static TimeSpan Lifetime(int? ttlSeconds) =>
        ttlSeconds is null ? DefaultLifetime : TimeSpan.FromSeconds(Math.Clamp(ttlSeconds.Value, 1, (int)MaxLifetime.TotalSeconds));

    /// <param name="issuedUnder">The credential minting it (<see cref="TokenOrigins"/>); the token dies with it.</param>
    /// <param name="kind">Defaults to conversation with a conversation, user without.</param>
    /// <param name="firstIssuedAt">For a refresh: when the chain's first token was minted (refresh has a maximum age).</param>
    public string Issue(Guid tenantId, string userId, Guid? conversationId, TimeSpan lifetime, IEnumerable<string>? roles = null,
        IDictionary<string, object>? extraClaims = null, string? issuedUnder = null, string? kind = null, DateTimeOffset? firstIssuedAt = null)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        var claims = new Dictionary<string, object>
        {
            [TenantClaim] = tenantId.ToString(),
            [KindClaim] = kind ?? (conversationId is null ? TokenKinds.User : TokenKinds.Conversation),
            [FirstIssuedClaim] = (firstIssuedAt ?? new DateTimeOffset(now, TimeSpan.Zero)).ToUnixTimeSeconds(),
        };
        if (issuedUnder is not null)
        {
            claims[OriginClaim] = issuedUnder;
        }
        if (conversationId is { } c)
        {
            claims[ConversationClaim] = c.ToString();
        }
        var roleList = roles?.ToArray() ?? [];
        if (roleList.Length > 0)
        {
            claims[RoleClaim] = roleList;
        }
        if (extraClaims is not null)
        {
            foreach (var (k, v) in extraClaims)
            {
                claims[k] = v;
            }
        }
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            Subject = new ClaimsIdentity([new Claim(JwtRegisteredClaimNames.Sub, userId)]),
            Claims = claims,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            SigningCredentials = _signing ?? throw new InvalidOperationException(
                "This service holds only public token keys (Platform:Jwt:Keys:n:PublicKey): it validates client tokens but cannot mint them."),
        });
    }

    public async Task<TokenValidation> ValidateAsync(string token)
    {
        if (string.IsNullOrWhiteSpace(token) || !_handler.CanReadToken(token))
        {
            return new(TokenValidationOutcome.Invalid, null, "The token is not a JWT.");
        }
        var result = await _handler.ValidateTokenAsync(token, _validation);
        if (!result.IsValid)
        {
            return result.Exception is SecurityTokenExpiredException or SecurityTokenInvalidLifetimeException
                ? new(TokenValidationOutcome.Expired, null, "The token has expired.")
                : new(TokenValidationOutcome.Invalid, null, "The token is invalid.");
        }
        var jwt = (JsonWebToken)result.SecurityToken;
        if (!jwt.TryGetPayloadValue<string>(TenantClaim, out var tid) || !Guid.TryParse(tid, out var tenantId))
        {
            return new(TokenValidationOutcome.Invalid, null, "The token names no tenant.");
        }
        Guid? conversationId = jwt.TryGetPayloadValue<string>(ConversationClaim, out var cid) && Guid.TryParse(cid, out var c) ? c : null;
        var roles = jwt.Claims.Where(x => x.Type == RoleClaim).Select(x => x.Value).ToArray();
        var kind = jwt.TryGetPayloadValue<string>(KindClaim, out var k) ? k : conversationId is null ? TokenKinds.User : TokenKinds.Conversation;
        DateTimeOffset? first = jwt.TryGetPayloadValue<long>(FirstIssuedClaim, out var oiat) ? DateTimeOffset.FromUnixTimeSeconds(oiat) : null;
        return new(TokenValidationOutcome.Valid,
            new ClientTokenClaims(tenantId, jwt.Subject, conversationId, roles, new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero))
            {
                Kind = kind,
                IssuedUnder = jwt.TryGetPayloadValue<string>(OriginClaim, out var crd) ? crd : null,
                FirstIssuedAt = first,
            }, null);
    }
}
