using Platform.Core.Security;

namespace Platform.Core.Identity;

/// <summary>
/// Every end-user token Api and Realtime accept, validated by one piece of code: a platform token (minted by Api or by a
/// tenant's issuer, <see cref="ClientTokens"/>) or, when it is not one, a token of an issuer a tenant trusts
/// (<see cref="TrustedIssuers"/>), which then stands for a user of that tenant with the roles mapped from its claims.
/// </summary>
public sealed class BearerTokens(ClientTokens tokens, TrustedIssuers trustedIssuers)
{
    public async Task<TokenValidation> ValidateAsync(string token, CancellationToken ct)
    {
        var validation = await tokens.ValidateAsync(token);
        if (validation.Outcome != TokenValidationOutcome.Invalid || string.IsNullOrEmpty(token))
        {
            return validation;
        }
        return await trustedIssuers.ValidateAsync(token, ct) is { } external
            ? new TokenValidation(TokenValidationOutcome.Valid,
                new ClientTokenClaims(external.TenantId, external.UserId, null, external.Roles, external.ExpiresAt), null)
            : validation;
    }
}
