using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Security;
using Platform.Core.Retention;

namespace Platform.Api.Apis;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(RetentionChange))]
[JsonSerializable(typeof(RetentionSetting))]
[JsonSerializable(typeof(IReadOnlyList<RetentionSetting>))]
[JsonSerializable(typeof(RetentionRunPage))]
public sealed partial class RetentionJsonContext : JsonSerializerContext;

/// <summary>
/// The operator's retention controls: each tenant's keep period per data class (defaults until changed) and the ledger
/// of what the hourly retention sweep removed. docs/retention.md lists the classes and what stays.
/// </summary>
public static class RetentionApi
{
    public static IEndpointRouteBuilder MapRetentionApi(this IEndpointRouteBuilder app)
    {
        var tenants = app.MapGroup("/v1/admin/tenants/{tenantId}/retention").WithTags("Retention").RequireAuthorization(AuthPolicies.Operator)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        tenants.MapGet("/", List).WithName("ListRetentionSettings")
            .WithSummary("A tenant's keep period for every data class (defaults until changed), with the bounds an operator may set.");
        tenants.MapPut("/{dataClass}", Put).WithName("SetRetention").Accepts<RetentionChange>("application/json")
            .WithSummary("Set a data class's keep period in days for the tenant ({keepDays: null} restores the default).");
        app.MapGet("/v1/admin/retention/runs", Runs).WithTags("Retention").RequireAuthorization(AuthPolicies.Operator).WithName("ListRetentionRuns")
            .WithSummary("What the retention sweep removed: one row per tenant, class and run, newest first (?tenantId=, cursor paging).")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
        return app;
    }

    public static async Task<Results<Ok<IReadOnlyList<RetentionSetting>>, ProblemHttpResult>> List(string tenantId,
        RetentionSettings settings, CancellationToken ct)
    {
        var (tenant, problem) = await TenantAsync(tenantId, settings, ct);
        if (problem is not null)
        {
            return problem;
        }
        return TypedResults.Ok(await settings.ListAsync(tenant, ct));
    }

    public static async Task<Results<Ok<RetentionSetting>, ProblemHttpResult>> Put(string tenantId, string dataClass, HttpRequest request,
        RetentionSettings settings, CancellationToken ct)
    {
        var (tenant, problem) = await TenantAsync(tenantId, settings, ct);
        if (problem is not null)
        {
            return problem;
        }
        if (RetentionClasses.Find(dataClass) is not { } known)
        {
            return Problems.Invalid("dataClass",
                $"'{(dataClass.Length > 40 ? dataClass[..40] + "…" : dataClass)}' is not a data class; one of {string.Join(", ", RetentionClasses.All.Select(c => c.Name))}.");
        }
        var (body, bodyProblem) = await JsonBody.ReadAsync(request, RetentionJsonContext.Default.RetentionChange);
        if (bodyProblem is not null)
        {
            return bodyProblem;
        }
        if (body!.KeepDays is { } days && (days < known.MinDays || days > known.MaxDays))
        {
            return Problems.Invalid("keepDays", $"keepDays of {known.Name} must be between {known.MinDays} and {known.MaxDays} days, or null for the default ({known.DefaultDays}).");
        }
        return TypedResults.Ok(await settings.SetAsync(tenant, known, body.KeepDays, "api:operator-key", ct));
    }

    public static async Task<Results<Ok<RetentionRunPage>, ProblemHttpResult>> Runs(string? tenantId, string? cursor, int? limit, RetentionSettings settings,
        CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        Guid? tenant = null;
        if (tenantId is not null)
        {
            if (Guid.TryParse(tenantId, out var t))
            {
                tenant = t;
            }
            else
            {
                errors["tenantId"] = ["tenantId is not an id (a UUID)."];
            }
        }
        if (!RetentionSettings.IsCursor(cursor))
        {
            errors["cursor"] = ["cursor is not a cursor this endpoint returned."];
        }
        if (limit is < 1 or > 200)
        {
            errors["limit"] = ["limit must be between 1 and 200."];
        }
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }
        return TypedResults.Ok(await settings.RunsAsync(tenant, cursor, limit ?? 50, ct));
    }

    private static async Task<(Guid Tenant, ProblemHttpResult? Problem)> TenantAsync(string tenantId, RetentionSettings settings, CancellationToken ct)
    {
        if (!Problems.TryParseId(tenantId, "tenantId", out var tenant, out var problem))
        {
            return (Guid.Empty, problem);
        }
        return await settings.TenantExistsAsync(tenant, ct) ? (tenant, null) : (tenant, Problems.NotFound("Tenant"));
    }
}
