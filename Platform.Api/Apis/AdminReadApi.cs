using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Platform.Api.Security;
using Platform.Core.Admin;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// Operator-only read endpoints the Admin panel needs beyond the public contract: cross-tenant lists with
/// counts, keyset-paged (<c>cursor</c> from the previous page's <c>next</c>), and overview figures.
/// </summary>
public static class AdminReadApi
{
    public static IEndpointRouteBuilder MapAdminReadApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/admin")
            .WithTags("Admin")
            .RequireAuthorization(AuthPolicies.Operator);

        api.MapGet("/overview", GetOverview).WithName("AdminOverview").WithSummary("Headline figures: tenants, conversations, activities per minute, failed jobs.");
        api.MapGet("/tenants", ListTenants).WithName("AdminListTenants").WithSummary("Tenants newest first with channel and key counts; search by name or id.");
        api.MapGet("/tenants/{id:guid}", GetTenant).WithName("AdminGetTenant").WithSummary("One tenant with its counts.");
        api.MapGet("/tenants/{id:guid}/api-keys", ListApiKeys).WithName("AdminListApiKeys").WithSummary("A tenant's API keys (prefix only), active first.");
        api.MapGet("/tenants/{id:guid}/channels", ListChannels).WithName("AdminListChannels").WithSummary("A tenant's channels, newest first.");
        api.MapGet("/tenants/{id:guid}/conversations", ListConversations).WithName("AdminListConversations")
            .WithSummary("A tenant's conversations newest first, optionally of one channel or status, with activity counts.");
        api.MapGet("/conversations/{id:guid}", GetConversation).WithName("AdminGetConversation").WithSummary("One conversation of any tenant.");
        api.MapGet("/conversations/{id:guid}/activities", ListActivities).WithName("AdminListActivities")
            .WithSummary("A conversation's activities in seq order: after=N tails forward, otherwise the newest before=N.");
        api.MapAdminChannels();
        return app;
    }

    public static async Task<Ok<OverviewFigures>> GetOverview(NpgsqlDataSource db, CancellationToken ct) =>
        TypedResults.Ok(await AdminReads.OverviewAsync(db, ct));

    public static async Task<Ok<Page<TenantRow>>> ListTenants(NpgsqlDataSource db, string? search, string? cursor, int? limit, CancellationToken ct) =>
        TypedResults.Ok(await AdminReads.TenantsAsync(db, search, cursor, AdminReads.ClampPageSize(limit), ct));

    public static async Task<Results<Ok<TenantRow>, NotFound>> GetTenant(NpgsqlDataSource db, Guid id, CancellationToken ct) =>
        await AdminReads.TenantAsync(db, id, ct) is { } tenant ? TypedResults.Ok(tenant) : TypedResults.NotFound();

    public static async Task<Results<Ok<IReadOnlyList<ApiKeyRow>>, NotFound>> ListApiKeys(NpgsqlDataSource db, Guid id, CancellationToken ct) =>
        await AdminReads.TenantAsync(db, id, ct) is null ? TypedResults.NotFound() : TypedResults.Ok(await AdminReads.ApiKeysAsync(db, id, ct));

    public static async Task<Results<Ok<Page<ChannelRow>>, NotFound>> ListChannels(
        NpgsqlDataSource db, Guid id, string? search, string? cursor, int? limit, CancellationToken ct) =>
        await AdminReads.TenantAsync(db, id, ct) is null
            ? TypedResults.NotFound()
            : TypedResults.Ok(await AdminReads.ChannelsAsync(db, id, search, cursor, AdminReads.ClampPageSize(limit), ct));

    public static async Task<Results<Ok<Page<ConversationRow>>, NotFound, ValidationProblem>> ListConversations(
        NpgsqlDataSource db, Guid id, Guid? channelId, string? status, string? cursor, int? limit, CancellationToken ct)
    {
        if (status is not (null or "active" or "closed"))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["status"] = ["Use 'active' or 'closed'."] });
        }
        if (await AdminReads.TenantAsync(db, id, ct) is null)
        {
            return TypedResults.NotFound();
        }
        return TypedResults.Ok(await AdminReads.ConversationsAsync(db, id, channelId, status, cursor, AdminReads.ClampPageSize(limit), ct));
    }

    public static async Task<Results<Ok<ConversationRow>, NotFound>> GetConversation(NpgsqlDataSource db, Guid id, CancellationToken ct) =>
        await AdminReads.ConversationAsync(db, id, ct) is { } conversation ? TypedResults.Ok(conversation) : TypedResults.NotFound();

    public static async Task<Results<Ok<ActivitiesPage>, NotFound, ValidationProblem>> ListActivities(
        NpgsqlDataSource db, Guid id, long? after, long? before, int? limit, CancellationToken ct)
    {
        if (after < 0 || before < 1)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [after < 0 ? "after" : "before"] = ["Must not be negative."] });
        }
        var page = await AdminReads.ActivitiesAsync(db, id, after, before, Math.Clamp(limit ?? 100, 1, 500), ct);
        return page is null ? TypedResults.NotFound() : TypedResults.Ok(page);
    }
}
