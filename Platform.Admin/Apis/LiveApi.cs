using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Admin.Components.Live;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// The live parts of the panel: HTML fragments rendered by the same components the pages use, polled by
/// wwwroot/admin.js (static rendering has no circuit to push over). Signed-in operators only.
/// </summary>
public static class LiveApi
{
    public static IEndpointRouteBuilder MapLiveApi(this IEndpointRouteBuilder app)
    {
        var live = app.MapGroup("/live").RequireAuthorization().DisableAntiforgery();

        live.MapGet("/overview", () => new RazorComponentResult<OverviewPanel>()).WithName("LiveOverview");
        live.MapGet("/conversations/{id:guid}/activities", (Guid id, long after) =>
            new RazorComponentResult<ActivityTail>(new { ConversationId = id, After = after })).WithName("LiveActivities");
        return app;
    }

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
}
