using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Platform.Core.Data;
using Platform.Core.Identity;
using Platform.Core.Security;
using Platform.Core.Tenancy;

namespace Platform.Api.Security;

/// <summary>Claim types the platform's principals carry.</summary>
public static class PlatformClaims
{
    /// <summary>operator | tenant | channel | client | user</summary>
    public const string Kind = "platform:kind";
    public const string Tenant = "platform:tenant";
    public const string Channel = "platform:channel";
    public const string Conversation = "platform:conversation";
    public const string User = "platform:user";
    /// <summary>A role of a user-scoped client token (member, team_lead, …).</summary>
    public const string Role = "platform:role";
    /// <summary>Set when the tenant or channel behind the credential is inactive: "tenant" or "channel".</summary>
    public const string Inactive = "platform:inactive";
    /// <summary>The credential behind the caller, carried into client tokens it mints (they die with it).</summary>
    public const string Origin = "platform:origin";
    /// <summary>A client token's kind (conversation, user, attendee).</summary>
    public const string TokenKind = "platform:token-kind";
    /// <summary>A client token's chain start (Unix seconds): refresh keeps it, so a chain has a maximum age.</summary>
    public const string FirstIssued = "platform:first-issued";
}

/// <summary>Problem types of the platform (RFC 9457 <c>type</c>): stable identifiers, documented in docs/api.md.</summary>
public static class ProblemTypes
{
    private const string Base = "urn:platform:problem:";
    public const string Validation = Base + "validation";
    public const string PayloadTooLarge = Base + "payload-too-large";
    public const string NotFound = Base + "not-found";
    public const string Unauthenticated = Base + "unauthenticated";
    public const string TokenExpired = Base + "token-expired";
    public const string Forbidden = Base + "forbidden";
    public const string TenantInactive = Base + "tenant-inactive";
    public const string ChannelInactive = Base + "channel-inactive";
    public const string ConversationClosed = Base + "conversation-closed";
    public const string RateLimited = Base + "rate-limited";
    public const string Unavailable = Base + "unavailable";
    public const string Gone = Base + "gone";
}

/// <summary>
/// One scheme for every credential: reads <c>Authorization: Bearer …</c> and recognises which kind it is by
/// its shape: <c>op_</c> operator key, <c>pk_</c> tenant API key, <c>cs_</c> channel secret, a JWT client token.
/// Missing or unrecognised credentials are 401; an inactive tenant or channel authenticates (so the answer can
/// say why) and is refused by every policy with 403.
/// </summary>
public sealed class BearerAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, IConfiguration configuration,
    CredentialLookup credentials, ApiKeyCache apiKeys, Platform.Core.Identity.BearerTokens tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "PlatformBearer";
    private const string FailureKey = "platform:auth-failure";
    private const string ExpiredFailure = "expired";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var bearer = ReadBearer(Request);
        if (bearer is null)
        {
            return AuthenticateResult.NoResult();
        }
        if (bearer.StartsWith(Credentials.OperatorKeyPrefix, StringComparison.Ordinal))
        {
            var operatorKey = configuration["Platform:OperatorKey"];
            return !string.IsNullOrEmpty(operatorKey) && Credentials.Matches(bearer, operatorKey)
                ? Success([new Claim(PlatformClaims.Kind, CallerKinds.Operator)])
                : AuthenticateResult.Fail("Invalid operator key.");
        }
        if (bearer.StartsWith(Credentials.TenantKeyPrefix, StringComparison.Ordinal))
        {
            var owner = await apiKeys.FindApiKeyAsync(bearer, Context.RequestAborted);
            return owner is null ? AuthenticateResult.Fail("Unknown or revoked API key.") : Success(Claims(CallerKinds.Tenant, owner));
        }
        if (bearer.StartsWith(Credentials.ChannelSecretPrefix, StringComparison.Ordinal))
        {
            var owner = await credentials.FindChannelSecretAsync(bearer, Context.RequestAborted);
            return owner is null ? AuthenticateResult.Fail("Unknown or rotated channel secret.") : Success(Claims(CallerKinds.Channel, owner));
        }
        // A platform token, or a token of an issuer a tenant trusts (the same validation Realtime runs).
        var validation = await tokens.ValidateAsync(bearer, Context.RequestAborted);
        switch (validation.Outcome)
        {
            case TokenValidationOutcome.Expired:
                Context.Items[FailureKey] = ExpiredFailure;
                return AuthenticateResult.Fail("The client token has expired.");
            case TokenValidationOutcome.Invalid:
                return AuthenticateResult.Fail("Unrecognised credential.");
        }
        var claims = validation.Claims!;
        if (claims.ConversationId is not { } conversationId)
        {
            return await UserTokenAsync(claims);
        }
        var state = await credentials.FindConversationAsync(claims.TenantId, conversationId, Context.RequestAborted);
        if (state is null)
        {
            return AuthenticateResult.Fail("The client token's conversation does not exist.");
        }
        if (await credentials.StandingAsync(claims, Context.RequestAborted) is { Revoked: true } revoked)
        {
            return AuthenticateResult.Fail($"The client token no longer stands: {revoked.Reason}.");
        }
        var list = Claims(CallerKinds.Client, state with { Origin = claims.IssuedUnder });
        list.Add(new Claim(PlatformClaims.Conversation, conversationId.ToString()));
        list.Add(new Claim(PlatformClaims.User, claims.UserId));
        AddTokenClaims(list, claims);
        return Success(list);
    }

    private static void AddTokenClaims(List<Claim> list, ClientTokenClaims claims)
    {
        list.Add(new Claim(PlatformClaims.TokenKind, claims.Kind));
        if (claims.FirstIssuedAt is { } first)
        {
            list.Add(new Claim(PlatformClaims.FirstIssued, first.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
    }

    /// <summary>A user-scoped token (no conversation): the user's own data and the roles other modules check.</summary>
    private async Task<AuthenticateResult> UserTokenAsync(ClientTokenClaims claims)
    {
        bool? active;
        try
        {
            active = await credentials.FindTenantActiveAsync(claims.TenantId, Context.RequestAborted);
            if (active is true && await credentials.StandingAsync(claims, Context.RequestAborted) is { Revoked: true } revoked)
            {
                return AuthenticateResult.Fail($"The client token no longer stands: {revoked.Reason}.");
            }
        }
        catch (Npgsql.NpgsqlException)
        {
            // PostgreSQL is down: the signature still proves the tenant minted this short-lived token, and the
            // endpoints that can answer without PostgreSQL (a cached ranking) should keep answering.
            active = true;
        }
        if (active is null)
        {
            return AuthenticateResult.Fail("The client token's tenant does not exist.");
        }
        var list = Claims(CallerKinds.User, new CredentialOwner(claims.TenantId, active.Value, null, true, null) { Origin = claims.IssuedUnder });
        list.Add(new Claim(PlatformClaims.User, claims.UserId));
        AddTokenClaims(list, claims);
        list.AddRange(claims.Roles.Select(r => new Claim(PlatformClaims.Role, r)));
        return Success(list);
    }

    private List<Claim> Claims(string kind, CredentialOwner owner)
    {
        // Modules that read through PlatformDb get the tenant filter from this request's credential.
        Context.RequestServices.GetRequiredService<TenantContext>().TenantId = owner.TenantId;
        var claims = new List<Claim>
        {
            new(PlatformClaims.Kind, kind),
            new(PlatformClaims.Tenant, owner.TenantId.ToString()),
        };
        if (owner.ChannelId is { } channel)
        {
            claims.Add(new Claim(PlatformClaims.Channel, channel.ToString()));
        }
        if (owner.Origin is { } origin)
        {
            claims.Add(new Claim(PlatformClaims.Origin, origin));
        }
        if (!owner.TenantActive)
        {
            claims.Add(new Claim(PlatformClaims.Inactive, "tenant"));
        }
        else if (!owner.ChannelActive)
        {
            claims.Add(new Claim(PlatformClaims.Inactive, "channel"));
        }
        return claims;
    }

    private AuthenticateResult Success(IEnumerable<Claim> claims) =>
        AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName)), SchemeName));

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var expired = Context.Items[FailureKey] is ExpiredFailure;
        Response.Headers.WWWAuthenticate = expired
            ? "Bearer error=\"invalid_token\", error_description=\"The token has expired\""
            : "Bearer";
        return WriteProblemAsync(new ProblemDetails
        {
            Status = StatusCodes.Status401Unauthorized,
            Type = expired ? ProblemTypes.TokenExpired : ProblemTypes.Unauthenticated,
            Title = expired ? "The client token has expired." : "A valid credential is required.",
            Detail = expired
                ? "Mint a new client token with POST /v1/conversations/{id}/tokens."
                : "Send Authorization: Bearer <operator key | tenant API key | channel secret | client token>.",
        });
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var problem = Context.User.FindFirstValue(PlatformClaims.Inactive) switch
        {
            "tenant" => new ProblemDetails
            {
                Type = ProblemTypes.TenantInactive, Title = "The tenant is inactive.",
                Detail = "The operator has deactivated this tenant; its credentials are refused until it is activated again.",
            },
            "channel" => new ProblemDetails
            {
                Type = ProblemTypes.ChannelInactive, Title = "The channel is inactive.",
                Detail = "The tenant has deactivated this channel; activate it with PATCH /v1/channels/{id}.",
            },
            _ => new ProblemDetails
            {
                Type = ProblemTypes.Forbidden, Title = "This credential cannot call this endpoint.",
                Detail = "See docs/api.md for which credential each endpoint accepts.",
            },
        };
        problem.Status = StatusCodes.Status403Forbidden;
        return WriteProblemAsync(problem);
    }

    private Task WriteProblemAsync(ProblemDetails problem) => TypedResults.Problem(problem).ExecuteAsync(Context);

    public static string? ReadBearer(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && header.Length > 7 ? header[7..].Trim() : null;
    }
}

public static class SecurityExtensions
{
    public static IHostApplicationBuilder AddPlatformSecurity(this IHostApplicationBuilder builder)
    {
        builder.Services.AddAuthentication(BearerAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, BearerAuthenticationHandler>(BearerAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(AuthPolicies.Operator, p => p.RequireClaim(PlatformClaims.Kind, CallerKinds.Operator))
            .AddPolicy(AuthPolicies.Tenant, p => ActiveOf(p, CallerKinds.Tenant))
            .AddPolicy(AuthPolicies.TenantOrChannel, p => ActiveOf(p, CallerKinds.Tenant, CallerKinds.Channel))
            .AddPolicy(AuthPolicies.Participant, p => ActiveOf(p, CallerKinds.Tenant, CallerKinds.Channel, CallerKinds.Client))
            .AddPolicy(AuthPolicies.User, p => ActiveOf(p, CallerKinds.User))
            .AddPolicy(AuthPolicies.TenantOrUser, p => ActiveOf(p, CallerKinds.Tenant, CallerKinds.User));
        builder.Services.AddSingleton<ClientTokens>();
        builder.Services.AddTrustedIssuerTokens();
        builder.Services.AddSingleton<Revocations>();
        builder.Services.AddSingleton<CredentialLookup>();
        builder.Services.AddSingleton<ApiKeyCache>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ApiKeyCache>());
        return builder;
    }

    private static void ActiveOf(Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder policy, params string[] kinds) =>
        policy.RequireAuthenticatedUser().RequireAssertion(ctx =>
            kinds.Contains(ctx.User.FindFirstValue(PlatformClaims.Kind)) && !ctx.User.HasClaim(c => c.Type == PlatformClaims.Inactive));
}
