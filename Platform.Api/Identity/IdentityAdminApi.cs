using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Apis;
using Platform.Api.Security;
using Platform.Core.Identity;

namespace Platform.Api.Identity;

public sealed record AdminIdentityUser(Guid Id, string Email, IReadOnlyList<MembershipView> Roles);
public sealed record AdminIdentityUserPage(IReadOnlyList<AdminIdentityUser> Items, string? Next);
public sealed record AdminRoleChange(Guid UserId, string? Email, string Action, string Role, string? ScopeId, string Actor, DateTimeOffset ChangedAt);
public sealed record AdminRoleChangeList(IReadOnlyList<AdminRoleChange> Items);

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(AdminIdentityUserPage))]
[JsonSerializable(typeof(AdminRoleChangeList))]
internal sealed partial class IdentityAdminJsonContext : JsonSerializerContext;

/// <summary>
/// What the admin panel (operator key) manages of a tenant's end users: the users with their roles, granting and taking
/// roles (each change recorded in the role audit with the operator as actor), and that audit.
/// </summary>
public static class IdentityAdminApi
{
    public const string OperatorActor = "operator (admin panel)";

    public static RouteGroupBuilder MapIdentityAdminApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/v1/admin/tenants/{tenantId:guid}/identity").WithTags("Identity").RequireAuthorization(AuthPolicies.Operator)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .AddEndpointFilter(async (context, next) =>
            {
                // Every call names a tenant: one that does not exist is a 404 before anything opens its scope.
                var http = context.HttpContext;
                return http.GetRouteValue("tenantId") is string raw && Guid.TryParse(raw, out var tenantId) && tenantId != Guid.Empty
                    && await http.RequestServices.GetRequiredService<Platform.Core.Tenancy.CredentialLookup>()
                        .FindTenantActiveAsync(tenantId, http.RequestAborted) is not null
                    ? await next(context)
                    : Problems.NotFound("Tenant");
            });
        admin.MapGet("/users", ListUsers).WithName("AdminListIdentityUsers")
            .WithSummary("A tenant's signed-up users with their roles, by e-mail address (?cursor=&limit=1–200).")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        admin.MapPost("/users/{userId}/roles", (Guid tenantId, string userId, HttpRequest request, IdentityUsers users) =>
                IdentityApi.ChangeRoleAsync(tenantId, userId, request, (t, id, m, ct) => users.GrantAsync(t, id, m, OperatorActor, ct)))
            .WithName("AdminGrantIdentityRole").WithSummary("Give a user of the tenant a role (audited).")
            .Accepts<MembershipRequest>("application/json").ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapPost("/users/{userId}/roles/remove", (Guid tenantId, string userId, HttpRequest request, IdentityUsers users) =>
                IdentityApi.ChangeRoleAsync(tenantId, userId, request, (t, id, m, ct) => users.RevokeAsync(t, id, m, OperatorActor, ct)))
            .WithName("AdminRemoveIdentityRole").WithSummary("Take a role away from a user of the tenant (audited).")
            .Accepts<MembershipRequest>("application/json").ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapGet("/role-changes", RoleChanges).WithName("AdminIdentityRoleChanges")
            .WithSummary("The tenant's role audit, newest first (?limit=1–200): who gave or took which role of whom, when.");
        return admin;
    }

    public static async Task<Results<Ok<AdminIdentityUserPage>, ProblemHttpResult>> ListUsers(Guid tenantId, string? cursor, string? limit,
        IdentityUsers users, HttpContext http)
    {
        var take = 50;
        if (limit is not null && (!int.TryParse(limit, out take) || take is < 1 or > 200))
        {
            return Problems.Invalid("limit", "limit must be 1–200.");
        }
        if (cursor is { Length: > 300 })
        {
            return Problems.Invalid("cursor", "cursor must be the nextCursor of a previous page.");
        }
        var (items, next) = await users.ListAsync(tenantId, cursor, take, http.RequestAborted);
        return TypedResults.Ok(new AdminIdentityUserPage(
            [.. items.Select(i => new AdminIdentityUser(i.User.Id, i.User.Email, [.. i.Roles.Select(m => new MembershipView(m.Role, m.ScopeId))]))], next));
    }

    public static async Task<Results<Ok<AdminRoleChangeList>, ProblemHttpResult>> RoleChanges(Guid tenantId, string? limit, IdentityUsers users,
        HttpContext http)
    {
        var take = 50;
        if (limit is not null && (!int.TryParse(limit, out take) || take is < 1 or > 200))
        {
            return Problems.Invalid("limit", "limit must be 1–200.");
        }
        return TypedResults.Ok(new AdminRoleChangeList([.. (await users.RoleChangesAsync(tenantId, take, http.RequestAborted))
            .Select(c => new AdminRoleChange(c.UserId, c.Email, c.Action, c.Role, c.ScopeId, c.Actor, c.ChangedAt))]));
    }
}
