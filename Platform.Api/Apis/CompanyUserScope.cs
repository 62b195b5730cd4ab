using System.Buffers;
using System.Globalization;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Platform.Api.Security;
using Platform.Core.Impact.Privacy;
using Platform.Core.Impact.Programs;
using Platform.Core.Impact.Reporting;
using Platform.Core.Impact.Scoring;
using Platform.Core.Jobs;

namespace Platform.Api.Apis;

/// <summary>
/// For a user token: only the companies named by its <c>company_user:{companyId}</c> roles exist (404 for any other id);
/// tenant API keys pass unchanged.
/// </summary>
public sealed class CompanyUserScope : IEndpointFilter
{
    /// <summary>The companies a user caller may see; null for a tenant API key (every company).</summary>
    public static IReadOnlySet<Guid>? Companies(ClaimsPrincipal user) =>
        user.FindFirstValue(PlatformClaims.Kind) != CallerKinds.User
            ? null
            : Platform.Core.Identity.Roles.ScopesOf(user.FindAll(PlatformClaims.Role).Select(c => c.Value), Platform.Core.Identity.Roles.CompanyUser)
                .Select(s => Guid.TryParse(s, out var g) ? g : Guid.Empty).Where(g => g != Guid.Empty).ToHashSet();

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (Companies(context.HttpContext.User) is { } own && context.HttpContext.GetRouteValue("id") is string id
            && (!Guid.TryParse(id, out var company) || !own.Contains(company)))
        {
            return Problems.NotFound("Company");
        }
        return await next(context);
    }
}
