using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Apis;
using Platform.Core.Identity;

namespace Platform.Api.Identity;

public static partial class IdentityApi
{
    /// <summary>Turns signing up by e-mailed link on or off for the tenant.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> SetSignUp(HttpRequest request, ClaimsPrincipal user, SignInLinks links)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, IdentityJsonContext.Default.SignUpSettings);
        if (problem is not null)
        {
            return problem;
        }
        if (body!.LinkSignUp is not { } enabled)
        {
            return Problems.Invalid("linkSignUp", "linkSignUp (true or false) is required.");
        }
        await links.SetLinkSignUpAsync(Tenant(user), enabled, request.HttpContext.RequestAborted);
        return TypedResults.NoContent();
    }

    public static async Task<Ok<SignUpSettings>> GetSignUp(ClaimsPrincipal user, SignInLinks links, HttpContext http) =>
        TypedResults.Ok(new SignUpSettings(await links.LinkSignUpAsync(Tenant(user), http.RequestAborted)));
}
