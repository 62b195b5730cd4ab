using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Ending the operator's session, and keeping circuits for signed-in operators only.</summary>
public static class SessionApi
{
    public static IEndpointRouteBuilder MapSessionApi(this IEndpointRouteBuilder app)
    {
        // A form post with the antiforgery token the layout renders; a GET cannot sign anyone out.
        app.MapPost("/signout", async (HttpContext context) =>
        {
            await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return TypedResults.LocalRedirect("/signin?signedOut=true");
        }).WithMetadata(new RequireAntiforgeryTokenAttribute(true)).RequireAuthorization().WithName("SignOut");
        return app;
    }

    /// <summary>
    /// The interactive pages' circuits (<c>/_blazor</c>: negotiate, WebSocket, disconnect) open only with the operator's
    /// sign-in cookie. The pages themselves are authorized by <c>AuthorizeRouteView</c>, but a circuit that never
    /// renders a page still holds server memory, so an anonymous caller gets a 401 before the hub sees the request.
    /// The network allowlist runs earlier still, so a request from outside it never gets this far.
    /// </summary>
    public static IApplicationBuilder UseSignedInCircuitsOnly(this IApplicationBuilder app) =>
        app.UseWhen(c => c.Request.Path.StartsWithSegments("/_blazor", StringComparison.OrdinalIgnoreCase), branch => branch.Use(async (context, next) =>
        {
            if (context.User.Identity?.IsAuthenticated != true)
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }
            await next(context);
        }));
}
