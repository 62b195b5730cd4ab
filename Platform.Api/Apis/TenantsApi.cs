using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Security;
using Platform.Core.Tenancy;

namespace Platform.Api.Apis;

/// <summary>Operator endpoints: tenants and their API keys.</summary>
public static class TenantsApi
{
    public static RouteGroupBuilder MapTenantsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/tenants").WithTags("Tenants").RequireAuthorization(AuthPolicies.Operator)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);

        api.MapPost("/", CreateTenant).WithName("CreateTenant")
            .WithSummary("Create a tenant and its first API key (shown once).")
            .Accepts<CreateTenantRequest>("application/json").ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapGet("/", ListTenants).WithName("ListTenants")
            .WithSummary("List tenants in creation order; page with ?after={next}&limit=.").ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapGet("/{id}", GetTenant).WithName("GetTenant").WithSummary("Get a tenant.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPatch("/{id}", UpdateTenant).WithName("UpdateTenant")
            .WithSummary("Activate or deactivate a tenant (status: active | inactive) or rename it.")
            .Accepts<UpdateTenantRequest>("application/json").ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{id}/api-keys", IssueApiKey).WithName("IssueApiKey")
            .WithSummary("Issue another API key for the tenant (shown once); existing keys keep working until revoked.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapDelete("/{id}/api-keys/{keyId}", RevokeApiKey).WithName("RevokeApiKey")
            .WithSummary("Revoke an API key; it is refused from the next request on.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    public static async Task<Results<Created<TenantCreated>, ProblemHttpResult>> CreateTenant(HttpRequest request, Tenants tenants, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, ApiJsonContext.Default.CreateTenantRequest);
        if (problem is not null)
        {
            return problem;
        }
        if (NameProblem(body!.Name, required: true) is { } invalid)
        {
            return invalid;
        }
        var (tenant, key) = await tenants.CreateAsync(body.Name!.Trim(), ct);
        return TypedResults.Created($"/v1/tenants/{tenant.Id}",
            new TenantCreated(tenant.Id, tenant.Name, tenant.Status, key.ApiKey, tenant.CreatedAt, tenant.UpdatedAt));
    }

    public static async Task<Results<Ok<TenantPage>, ProblemHttpResult>> ListTenants(string? after, string? limit, Tenants tenants, CancellationToken ct)
    {
        if (!Problems.TryParsePage(after, limit, 1000, 100, out var request, out var problem))
        {
            return problem!;
        }
        var page = await tenants.ListAsync(request.Limit, request.After, ct);
        return TypedResults.Ok(new TenantPage(page, request.Next(page, r => r.Id)));
    }

    public static async Task<Results<Ok<Tenant>, ProblemHttpResult>> GetTenant(string id, Tenants tenants, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var tenantId, out var problem))
        {
            return problem!;
        }
        return await tenants.FindAsync(tenantId, ct) is { } tenant ? TypedResults.Ok(tenant) : Problems.NotFound("Tenant");
    }

    public static async Task<Results<Ok<Tenant>, ProblemHttpResult>> UpdateTenant(string id, HttpRequest request, Tenants tenants, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var tenantId, out var problem))
        {
            return problem!;
        }
        var (body, bodyProblem) = await JsonBody.ReadAsync(request, ApiJsonContext.Default.UpdateTenantRequest);
        if (bodyProblem is not null)
        {
            return bodyProblem;
        }
        if ((StatusProblem(body!.Status) ?? NameProblem(body.Name, required: false)) is { } invalid)
        {
            return invalid;
        }
        if (body.Status is null && body.Name is null)
        {
            return Problems.Invalid("status", "Nothing to change: send status (active | inactive) and/or name.");
        }
        return await tenants.UpdateAsync(tenantId, body.Name?.Trim(), body.Status, ct) is { } tenant ? TypedResults.Ok(tenant) : Problems.NotFound("Tenant");
    }

    public static async Task<Results<Created<IssuedApiKey>, ProblemHttpResult>> IssueApiKey(string id, Tenants tenants, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var tenantId, out var problem))
        {
            return problem!;
        }
        return await tenants.IssueApiKeyAsync(tenantId, ct) is { } key
            ? TypedResults.Created($"/v1/tenants/{tenantId}/api-keys/{key.Id}", key)
            : Problems.NotFound("Tenant");
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeApiKey(string id, string keyId, Tenants tenants, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var tenantId, out var problem) || !Problems.TryParseId(keyId, "keyId", out var key, out problem))
        {
            return problem!;
        }
        return await tenants.RevokeApiKeyAsync(tenantId, key, ct) ? TypedResults.NoContent() : Problems.NotFound("API key");
    }

    internal static ProblemHttpResult? NameProblem(string? name, bool required) => name switch
    {
        null when required => Problems.Invalid("name", "name is required."),
        null => null,
        _ when string.IsNullOrWhiteSpace(name) => Problems.Invalid("name", "name must not be empty."),
        _ when name.Trim().Length > Tenants.MaxNameLength => Problems.Invalid("name", $"name is longer than {Tenants.MaxNameLength} characters."),
        _ => null,
    };

    internal static ProblemHttpResult? StatusProblem(string? status) =>
        status is null || ActivationStatus.IsValid(status) ? null : Problems.Invalid("status", "status must be \"active\" or \"inactive\".");
}
