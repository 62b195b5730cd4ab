using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Platform.Core.Security;

namespace Platform.Api.Security;

/// <summary>Claim types the platform's principals carry.</summary>
public static class PlatformClaims
{
    /// <summary>operator | tenant | channel | client</summary>
    public const string Kind = "platform:kind";
}

/// <summary>
/// One scheme for every credential: reads <c>Authorization: Bearer …</c> and recognises which kind of
/// credential it is. Unrecognised or missing credentials fail authentication (401 via the policies).
/// </summary>
public sealed class BearerAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, IConfiguration configuration)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "PlatformBearer";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var bearer = ReadBearer(Request);
        if (bearer is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        var operatorKey = configuration["Platform:OperatorKey"];
        if (bearer.StartsWith(Credentials.OperatorKeyPrefix, StringComparison.Ordinal))
        {
            return Task.FromResult(!string.IsNullOrEmpty(operatorKey) && Credentials.Matches(bearer, operatorKey)
                ? Success([new Claim(PlatformClaims.Kind, "operator")])
                : AuthenticateResult.Fail("Invalid operator key."));
        }
        return Task.FromResult(AuthenticateResult.Fail("Unrecognised credential."));
    }

    private AuthenticateResult Success(IEnumerable<Claim> claims) =>
        AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName)), SchemeName));

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
            .AddPolicy(AuthPolicies.Operator, p => p.RequireClaim(PlatformClaims.Kind, "operator"));
        builder.Services.AddSingleton<ClientTokens>();
        return builder;
    }
}
