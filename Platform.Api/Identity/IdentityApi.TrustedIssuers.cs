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
    public static async Task<Results<NoContent, ProblemHttpResult>> SetTrustedIssuer(HttpRequest request, ClaimsPrincipal user, TrustedIssuers issuers,
        Platform.Core.Security.OutboundOptions outbound)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, IdentityJsonContext.Default.TrustedIssuerRequest);
        if (problem is not null)
        {
            return problem;
        }
        if (body!.Issuer is not { Length: > 0 and <= 2000 } issuer || issuer.Any(char.IsControl))
        {
            return Problems.Invalid("issuer", "issuer must be the issuer's identifier (its iss claim), 1–2000 characters.");
        }
        if (body.Audience is not { Length: > 0 and <= 500 } audience || audience.Any(char.IsControl))
        {
            return Problems.Invalid("audience", "audience must be the aud the issuer puts in tokens for this platform, 1–500 characters.");
        }
        if (body.JwksUri is not { Length: > 0 and <= 2000 } jwks || !Uri.TryCreate(jwks, UriKind.Absolute, out var jwksUri)
            || Platform.Core.Security.OutboundHttp.WhyRefused(jwksUri, outbound, requireHttps: true) is not null)
        {
            return Problems.Invalid("jwksUri", "jwksUri must be an https URL of a public host, at most 2000 characters.");
        }
        foreach (var (field, value) in new[] { ("userClaim", body.UserClaim), ("rolesClaim", body.RolesClaim) })
        {
            if (value is not null && (value.Length is 0 or > 100 || value.Any(char.IsControl)))
            {
                return Problems.Invalid(field, $"{field} must be a claim name of 1–100 characters.");
            }
        }
        await issuers.SetAsync(new TrustedIssuer(Tenant(user), issuer, audience, jwks, body.UserClaim ?? "sub", body.RolesClaim),
            request.HttpContext.RequestAborted);
        return TypedResults.NoContent();
    }

    public static async Task<Ok<TrustedIssuerList>> ListTrustedIssuers(ClaimsPrincipal user, TrustedIssuers issuers, HttpContext http) =>
        TypedResults.Ok(new TrustedIssuerList([.. (await issuers.ListAsync(Tenant(user), http.RequestAborted))
            .Select(i => new TrustedIssuerView(i.Issuer, i.Audience, i.JwksUri, i.UserClaim, i.RolesClaim))]));

    public static async Task<Results<NoContent, ProblemHttpResult>> RemoveTrustedIssuer(HttpRequest request, ClaimsPrincipal user, TrustedIssuers issuers)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, IdentityJsonContext.Default.TrustedIssuerRequest);
        if (problem is not null)
        {
            return problem;
        }
        if (body!.Issuer is not { Length: > 0 and <= 2000 } issuer)
        {
            return Problems.Invalid("issuer", "issuer must be 1–2000 characters.");
        }
        return await issuers.DeleteAsync(Tenant(user), issuer, request.HttpContext.RequestAborted) ? TypedResults.NoContent() : Problems.NotFound("Trusted issuer");
    }
}
