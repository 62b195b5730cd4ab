using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Platform.Api.Apis;
using Platform.Api.Security;
using Platform.Core.Admin;
using Platform.Core.Impact.Safety;

namespace Microsoft.AspNetCore.Builder;

/// <summary>An open safety flag as the operator's cross-tenant queue shows it: the start of the text, not all of it.</summary>
public sealed record AdminSafetyFlag(Guid Id, Guid TenantId, string TenantName, string TextKind, IReadOnlyList<string> Categories,
    string? Excerpt, DateTime CreatedAt);

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
        api.MapGet("/civic/cities", ListCivicCities).WithName("AdminListCivicCities")
            .WithSummary("Civic cities of every tenant, newest first, with their latest run; runs and reruns are under /v1/internal.");
        api.MapGet("/safety/flags", ListSafetyFlags).WithName("AdminListSafetyFlags")
            .WithSummary("Open safety flags of every tenant, oldest first, with an excerpt of the text (a logged PII read).");
        api.MapPost("/safety/flags/{id:guid}/review", ReviewSafetyFlag).WithName("AdminReviewSafetyFlag")
            .WithSummary("Review any tenant's flag: clear (the text is scored) or confirm (it stays out of scoring).");
        api.MapAdminChannels();
        api.MapAdminNotifications();
        api.MapAdminModules();
        return app;
    }

    public static async Task<Ok<OverviewFigures>> GetOverview(
        NpgsqlDataSource db, StackExchange.Redis.IConnectionMultiplexer redis, Platform.Core.Jobs.JobAdmin jobs, CancellationToken ct)
    {
        var figures = await AdminReads.OverviewAsync(db, ct);
        // Failed jobs come from Hangfire's own counter, the figure the Hangfire Dashboard shows.
        return TypedResults.Ok(figures with { OpenConnections = await AdminReads.OpenConnectionsAsync(redis), FailedJobsLastHour = jobs.FailedRecently() });
    }

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

    public static async Task<Ok<Page<CivicCityRow>>> ListCivicCities(NpgsqlDataSource db, string? cursor, int? limit, CancellationToken ct) =>
        TypedResults.Ok(await AdminReads.CivicCitiesAsync(db, cursor, AdminReads.ClampPageSize(limit), ct));

    public static async Task<Ok<Page<AdminSafetyFlag>>> ListSafetyFlags(NpgsqlDataSource db, SafetyFlags flags, string? cursor, int? limit,
        CancellationToken ct)
    {
        const int excerptLength = 240;
        var page = await AdminReads.OpenSafetyFlagsAsync(db, cursor, AdminReads.ClampPageSize(limit), ct);
        var read = new Dictionary<Guid, SafetyFlag>();
        foreach (var tenant in page.Items.GroupBy(f => f.TenantId))
        {
            foreach (var flag in await flags.ByIdsAsync(tenant.Key, tenant.Select(f => f.Id).ToArray(), "admin:operator", ct))
            {
                read[flag.Id] = flag;
            }
        }
        var items = page.Items.Where(f => read.ContainsKey(f.Id)).Select(f =>
        {
            var flag = read[f.Id];
            var excerpt = flag.Text is { Length: > excerptLength } text ? text[..excerptLength] + "…" : flag.Text;
            return new AdminSafetyFlag(f.Id, f.TenantId, f.TenantName, flag.TextKind, flag.Categories, excerpt, f.CreatedAt);
        }).ToList();
        return TypedResults.Ok(new Page<AdminSafetyFlag>(items, page.Next));
    }

    /// <summary>The tenant's review rules (<see cref="SafetyFlags.ReviewAsync"/>), addressed by flag id alone.</summary>
    public static async Task<Results<Ok<SafetyFlagReviewed>, ProblemHttpResult>> ReviewSafetyFlag(Guid id, HttpRequest request, NpgsqlDataSource db,
        SafetyFlags flags, CancellationToken ct)
    {
        var (body, bodyProblem) = await JsonBody.ReadAsync(request, ImpactJsonContext.Default.ReviewRequest);
        if (bodyProblem is not null)
        {
            return bodyProblem;
        }
        if (body!.Decision is not ("clear" or "confirm"))
        {
            return Problems.Invalid("decision", "decision must be clear (score the text) or confirm (keep it out of scoring).");
        }
        if (body.Note is { Length: > 2000 })
        {
            return Problems.Invalid("note", "note is at most 2000 characters.");
        }
        if (await AdminReads.SafetyFlagTenantAsync(db, id, ct) is not { } tenant)
        {
            return Problems.NotFound("Safety flag");
        }
        return await flags.ReviewAsync(tenant, id, body.Decision == "clear", body.Note, ct) switch
        {
            ReviewOutcome.NotFound => Problems.NotFound("Safety flag"),
            ReviewOutcome.AlreadyReviewed => ImpactApi.Conflict("flag-reviewed", "The flag has already been reviewed.", "A review is final."),
            _ => TypedResults.Ok(new SafetyFlagReviewed(id, body.Decision == "clear" ? "cleared" : "confirmed")),
        };
    }
}
