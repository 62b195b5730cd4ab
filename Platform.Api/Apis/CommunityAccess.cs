using System.Security.Claims;
using Platform.Api.Security;
using Platform.Core.Community;

namespace Platform.Api.Apis;

/// <summary>Who is calling a community endpoint: a tenant's server (API key) or one person (user token with roles).</summary>
public sealed record CommunityCaller(Guid TenantId, bool IsTenant, string? UserId, IReadOnlyList<string> Roles)
{
    public static CommunityCaller From(ClaimsPrincipal user)
    {
        var caller = Caller.From(user);
        return new CommunityCaller(caller.TenantId, caller.Kind == CallerKinds.Tenant, caller.Kind == CallerKinds.User ? caller.UserId : null,
            [.. user.FindAll(PlatformClaims.Role).Select(c => c.Value)]);
    }

    public bool Has(string role) => Roles.Contains(role);

    public bool HasAny(IEnumerable<string> roles) => roles.Any(Roles.Contains);

    /// <summary>Recorded as the actor of provenance events.</summary>
    public string Actor => IsTenant ? "tenant-api-key" : $"user:{UserId}";
}

/// <summary>
/// Role rules as endpoint metadata + one filter: each endpoint names who may call it (the tenant's API key and/or
/// user tokens with given roles); everyone else gets 403 problem details. Roles come from the user token.
/// </summary>
public sealed record CommunityAccessRule(bool Tenant, string[] Roles, bool AnyUser);

public static class CommunityAccess
{
    public static TBuilder Allow<TBuilder>(this TBuilder builder, bool tenant = false, bool anyUser = false, params string[] roles)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new CommunityAccessRule(tenant, roles, anyUser));

    public sealed class Filter : IEndpointFilter
    {
        public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
        {
            var http = context.HttpContext;
            var rule = http.GetEndpoint()?.Metadata.GetMetadata<CommunityAccessRule>();
            var caller = CommunityCaller.From(http.User);
            var allowed = rule is not null && (caller.IsTenant ? rule.Tenant : caller.UserId is not null && (rule.AnyUser || caller.HasAny(rule.Roles)));
            if (!allowed)
            {
                var who = rule is null ? "nobody" : string.Join(", ",
                    new[] { rule.Tenant ? "the tenant API key" : null, rule.AnyUser ? "any user token" : null }
                        .Concat(rule.Roles.Select(r => $"role {r}")).Where(x => x is not null));
                return Problems.Forbidden($"This endpoint is for {who}.");
            }
            return await next(context);
        }
    }

    /// <summary>A team lead (without the community manager role) sees only their own team, read from the directory.</summary>
    public static async Task<(string? Team, bool Forbidden)> ScopeTeamAsync(CommunityCaller caller, string? requested, Members members, CancellationToken ct)
    {
        if (caller.IsTenant || caller.Has(CommunityRoles.CommunityManager) || !caller.Has(CommunityRoles.TeamLead))
        {
            return (requested, false);
        }
        var own = (await members.FindAsync(caller.TenantId, caller.UserId!, ct))?.Team;
        if (own is null || (requested is not null && requested != own))
        {
            return (null, true);
        }
        return (own, false);
    }
}
