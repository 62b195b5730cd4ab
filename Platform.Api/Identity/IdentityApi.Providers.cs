using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using OpenIddict.Abstractions;
using Platform.Api.Apis;
using Platform.Api.Security;
using Platform.Core.Identity;
using Platform.Core.Security;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Platform.Api.Identity;

public static partial class IdentityApi
{
    private static readonly System.Text.RegularExpressions.Regex ProviderName = new("^[a-z0-9][a-z0-9-]{0,39}$",
        System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    public static async Task<Results<NoContent, ProblemHttpResult>> SetProvider(HttpRequest request, string name, ClaimsPrincipal user,
        ExternalProviders providers, Platform.Core.Security.OutboundOptions outbound)
    {
        if (!ProviderName.IsMatch(name) || name is "callback" or "signed-out")
        {
            return Problems.Invalid("name", "The provider's name is its slug in sign-in URLs: 1–40 of a-z, 0-9 and '-', not 'callback' or 'signed-out'.");
        }
        var (body, problem) = await JsonBody.ReadAsync(request, IdentityJsonContext.Default.ExternalProviderRequest);
        if (problem is not null)
        {
            return problem;
        }
        var displayName = body!.DisplayName?.Trim();
        if (string.IsNullOrEmpty(displayName) || displayName.Length > 100 || displayName.Any(char.IsControl))
        {
            return Problems.Invalid("displayName", "displayName (shown as \"Sign in with …\") must be 1–100 characters.");
        }
        if (body.Issuer is not { Length: > 0 and <= 2000 } issuer || !Uri.TryCreate(issuer, UriKind.Absolute, out var issuerUri)
            || !string.IsNullOrEmpty(issuerUri.Query) || !string.IsNullOrEmpty(issuerUri.Fragment)
            || Platform.Core.Security.OutboundHttp.WhyRefused(issuerUri, outbound, requireHttps: true) is not null)
        {
            return Problems.Invalid("issuer", "issuer must be the provider's issuer URL (https, a public host, no query), e.g. https://accounts.google.com.");
        }
        if (body.ClientId is not { Length: > 0 and <= 500 } clientId || clientId.Any(char.IsControl))
        {
            return Problems.Invalid("clientId", "clientId must be the client id the provider gave this tenant, 1–500 characters.");
        }
        if (body.ClientSecret is { } secret && (secret.Length is 0 or > 500 || secret.Any(char.IsControl)))
        {
            return Problems.Invalid("clientSecret", "clientSecret must be 1–500 characters, or left out for a public client.");
        }
        if (body.ClientSecret is not null && !providers.CanSeal)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Secrets cannot be stored.",
                detail: "The master key that seals secrets is not configured.");
        }
        await providers.SetAsync(Tenant(user), name, displayName, issuer, clientId, body.ClientSecret, request.HttpContext.RequestAborted);
        return TypedResults.NoContent();
    }

    public static async Task<Ok<ExternalProviderList>> ListProviders(HttpRequest request, ClaimsPrincipal user, ExternalProviders providers,
        IdentityOptions options) =>
        TypedResults.Ok(new ExternalProviderList([.. (await providers.ListAsync(Tenant(user), request.HttpContext.RequestAborted))
            .Select(p => new ExternalProviderView(p.Name, p.DisplayName, p.Issuer, p.ClientId, p.HasSecret,
                $"{IdentityEndpoints.PublicBase(request.HttpContext, options)}/t/{Tenant(user):D}/account/external/callback",
                $"{IdentityEndpoints.PublicBase(request.HttpContext, options)}/t/{Tenant(user):D}/account/external/signed-out"))]));

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteProvider(HttpRequest request, string name, ClaimsPrincipal user,
        ExternalProviders providers) =>
        name.Length <= 40 && await providers.DeleteAsync(Tenant(user), name, request.HttpContext.RequestAborted)
            ? TypedResults.NoContent()
            : Problems.NotFound("External provider");
}
