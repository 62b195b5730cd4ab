using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Platform.Core.Admin;
using Platform.Core.Governance;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// The operator's view of the Community (Convener), Conferences and Impact modules across tenants for the Admin panel's
/// module pages: cursor-paged lists (<c>cursor</c> from the previous page's <c>next</c>) and a provenance chain check.
/// </summary>
public static class AdminModulesApi
{
    public static RouteGroupBuilder MapAdminModules(this RouteGroupBuilder api)
    {
        api.MapGet("/community/tenants", ListCommunityTenants).WithName("AdminListCommunityTenants")
            .WithSummary("Tenants with community members, newest first: members, consents granted per purpose, the last ranking run and its input hash.");
        api.MapGet("/community/tenants/{id:guid}/provenance", VerifyProvenance).WithName("AdminVerifyProvenance")
            .WithSummary("Walks the tenant's provenance chain and recomputes every hash; says where it first breaks.");
        api.MapGet("/conferences", ListConferences).WithName("AdminListConferences")
            .WithSummary("Conferences of every tenant, newest first: attendees, the latest match computation, gatherings, report jobs by state.");
        api.MapGet("/impact/companies", ListImpactCompanies).WithName("AdminListImpactCompanies")
            .WithSummary("Impact companies of every tenant, newest first: people, texts and how many are scored, the last scoring, imports.");
        api.MapGet("/impact/imports", ListImpactImports).WithName("AdminListImpactImports")
            .WithSummary("CSV imports newest first with their counts and first line errors; withErrors=true keeps those that rejected a line.");
        api.MapGet("/impact/webhook-rejections", ListWebhookRejections).WithName("AdminListWebhookRejections")
            .WithSummary("Rejected connector webhook calls per tenant, source, reason, address and hour, most recent first.");
        api.MapGet("/impact/privacy-requests", ListPrivacyRequests).WithName("AdminListPrivacyRequests")
            .WithSummary("Export and erasure requests of every tenant, newest first.");
        return api;
    }

    public static async Task<Ok<Page<CommunityTenantRow>>> ListCommunityTenants(NpgsqlDataSource db, string? cursor, int? limit, CancellationToken ct) =>
        TypedResults.Ok(await ModuleReads.CommunityTenantsAsync(db, cursor, AdminReads.ClampPageSize(limit), ct));

    public static async Task<Results<Ok<ProvenanceCheck>, ProblemHttpResult>> VerifyProvenance(
        NpgsqlDataSource db, ProvenanceLedger ledger, Guid id, CancellationToken ct)
    {
        if (await AdminReads.TenantAsync(db, id, ct) is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No tenant has this id.");
        }
        var result = await ledger.VerifyAsync(id, ct);
        return TypedResults.Ok(new ProvenanceCheck(id, result.Ok, result.Checked, result.FirstBrokenEventId, DateTime.UtcNow));
    }

    public static async Task<Ok<Page<ConferenceRow>>> ListConferences(NpgsqlDataSource db, string? cursor, int? limit, CancellationToken ct) =>
        TypedResults.Ok(await ModuleReads.ConferencesAsync(db, cursor, AdminReads.ClampPageSize(limit), ct));

    public static async Task<Ok<Page<ImpactCompanyRow>>> ListImpactCompanies(NpgsqlDataSource db, string? cursor, int? limit, CancellationToken ct) =>
        TypedResults.Ok(await ModuleReads.ImpactCompaniesAsync(db, cursor, AdminReads.ClampPageSize(limit), ct));

    public static async Task<Ok<Page<ImpactImportRow>>> ListImpactImports(NpgsqlDataSource db, bool? withErrors, string? cursor, int? limit, CancellationToken ct) =>
        TypedResults.Ok(await ModuleReads.ImpactImportsAsync(db, withErrors ?? false, cursor, AdminReads.ClampPageSize(limit), ct));

    public static async Task<Ok<Page<WebhookRejectionRow>>> ListWebhookRejections(NpgsqlDataSource db, string? cursor, int? limit, CancellationToken ct) =>
        TypedResults.Ok(await ModuleReads.WebhookRejectionsAsync(db, cursor, AdminReads.ClampPageSize(limit), ct));

    public static async Task<Ok<Page<PrivacyRequestRow>>> ListPrivacyRequests(NpgsqlDataSource db, string? cursor, int? limit, CancellationToken ct) =>
        TypedResults.Ok(await ModuleReads.PrivacyRequestsAsync(db, cursor, AdminReads.ClampPageSize(limit), ct));
}
