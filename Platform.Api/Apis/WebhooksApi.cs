using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Security;
using Platform.Core.Notifications;
using Platform.Core.Security;

namespace Platform.Api.Apis;

/// <summary>A tenant's webhook endpoints (Standard Webhooks signing) and their delivery log.</summary>
public static class WebhooksApi
{
    public static RouteGroupBuilder MapWebhooksApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/webhooks").WithTags("Webhooks").RequireAuthorization(AuthPolicies.Tenant)
            .AddEndpointFilter<TenantRateLimitFilter>()
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        api.MapPost("/", CreateWebhook).WithName("CreateWebhook")
            .WithSummary("Register an endpoint {url, eventTypes?}; the answer carries its whsec_ signing secret (shown once).")
            .Accepts<WebhookRequest>("application/json").ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapGet("/", ListWebhooks).WithName("ListWebhooks").WithSummary("The tenant's webhook endpoints with status and failure streak.");
        api.MapDelete("/{id}", DeleteWebhook).WithName("DeleteWebhook").WithSummary("Remove an endpoint; it receives nothing more.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/{id}/deliveries", ListDeliveries).WithName("ListWebhookDeliveries")
            .WithSummary("The endpoint's delivery log, newest first, each with every attempt (?limit=1–200).")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    public static async Task<Results<Created<WebhookCreated>, ProblemHttpResult>> CreateWebhook(HttpRequest request, ClaimsPrincipal user,
        WebhookEndpoints endpoints, OutboundOptions outbound, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, NotificationsApiJsonContext.Default.WebhookRequest);
        if (problem is not null)
        {
            return problem;
        }
        if (!Uri.TryCreate(body!.Url, UriKind.Absolute, out var url) || body.Url!.Length > 2000)
        {
            return Problems.Invalid("url", "url must be an absolute https URL of at most 2000 characters.");
        }
        if (OutboundHttp.WhyRefused(url, outbound, requireHttps: true) is { } why)
        {
            return Problems.Invalid("url", $"url is not allowed: {why}.");
        }
        var types = body.EventTypes ?? [];
        if (types.Length > 100 || types.Any(t => !NotificationRules.IsType(t)))
        {
            return Problems.Invalid("eventTypes", "eventTypes must be at most 100 notification types (lowercase letters, digits, '.', '_', '-'); empty means all.");
        }
        var (endpoint, secret) = await endpoints.CreateAsync(Caller.From(user).TenantId, body.Url, types, ct);
        return TypedResults.Created($"/v1/webhooks/{endpoint.Id}",
            new WebhookCreated(endpoint.Id, endpoint.Url, endpoint.EventTypes, endpoint.Status, secret, endpoint.CreatedAt));
    }

    public static async Task<Ok<IReadOnlyList<WebhookEndpoint>>> ListWebhooks(ClaimsPrincipal user, WebhookEndpoints endpoints, CancellationToken ct) =>
        TypedResults.Ok(await endpoints.ListAsync(Caller.From(user).TenantId, ct));

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteWebhook(string id, ClaimsPrincipal user, WebhookEndpoints endpoints,
        CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var endpointId, out var problem))
        {
            return problem!;
        }
        return await endpoints.DeleteAsync(Caller.From(user).TenantId, endpointId, ct) ? TypedResults.NoContent() : Problems.NotFound("Webhook");
    }

    public static async Task<Results<Ok<WebhookDeliveryPage>, ProblemHttpResult>> ListDeliveries(string id, string? limit, ClaimsPrincipal user,
        WebhookEndpoints endpoints, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var endpointId, out var problem)
            || !Problems.TryParseQuery(limit, "limit", 1, 200, 50, out var take, out problem))
        {
            return problem!;
        }
        var tenant = Caller.From(user).TenantId;
        if (await endpoints.FindAsync(tenant, endpointId, ct) is null)
        {
            return Problems.NotFound("Webhook");
        }
        return TypedResults.Ok(new WebhookDeliveryPage(await endpoints.DeliveriesAsync(tenant, endpointId, (int)take, ct)));
    }
}
