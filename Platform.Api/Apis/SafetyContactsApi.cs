using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Security;
using Platform.Core.Notifications;

namespace Platform.Api.Apis;

/// <summary>The tenant's designated safety contacts (tenant key) and the audit of escalations sent to them.</summary>
public static class SafetyContactsApi
{
    public static IEndpointRouteBuilder MapSafetyContactsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1").WithTags("Notifications").RequireAuthorization(AuthPolicies.Tenant)
            .AddEndpointFilter<TenantRateLimitFilter>().ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapGet("/safety-contacts", List).WithName("ListSafetyContacts").WithSummary("The users notified at once about self-harm or violence flags.");
        api.MapPut("/safety-contacts", Replace).WithName("SetSafetyContacts")
            .WithSummary("Replace the safety contacts: {userIds: [...]} (0–50 user ids).")
            .Accepts<SafetyContactsView>("application/json").ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapGet("/safety-escalations", Escalations).WithName("ListSafetyEscalations")
            .WithSummary("The audit of escalations, newest first: flag, categories, contacts notified and their notification ids (?limit=1–200).")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return app;
    }

    public static async Task<Ok<SafetyContactsView>> List(ClaimsPrincipal user, SafetyContacts contacts, CancellationToken ct) =>
        TypedResults.Ok(new SafetyContactsView(await contacts.ListAsync(Caller.From(user).TenantId, ct)));

    public static async Task<Results<Ok<SafetyContactsView>, ProblemHttpResult>> Replace(HttpRequest request, ClaimsPrincipal user, SafetyContacts contacts,
        CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, NotificationChannelsJsonContext.Default.JsonElement);
        if (problem is not null)
        {
            return problem;
        }
        if (body.ValueKind != JsonValueKind.Object || body.EnumerateObject().Any(p => p.Name != "userIds")
            || !body.TryGetProperty("userIds", out var ids) || ids.ValueKind != JsonValueKind.Array)
        {
            return Problems.Invalid("userIds", "The body must be {\"userIds\": [...]}.");
        }
        if (ids.GetArrayLength() > SafetyContacts.MaxContacts
            || ids.EnumerateArray().Any(i => i.ValueKind != JsonValueKind.String || i.GetString() is not { Length: >= 1 and <= NotificationRules.MaxIdLength }))
        {
            return Problems.Invalid("userIds", $"userIds must hold at most {SafetyContacts.MaxContacts} user ids of 1–{NotificationRules.MaxIdLength} characters.");
        }
        var saved = await contacts.ReplaceAsync(Caller.From(user).TenantId, [.. ids.EnumerateArray().Select(i => i.GetString()!).Distinct()], ct);
        return TypedResults.Ok(new SafetyContactsView(saved));
    }

    public static async Task<Results<Ok<SafetyEscalationsView>, ProblemHttpResult>> Escalations(string? limit, ClaimsPrincipal user, SafetyContacts contacts,
        CancellationToken ct)
    {
        if (!Problems.TryParseQuery(limit, "limit", 1, 200, 50, out var take, out var problem))
        {
            return problem!;
        }
        return TypedResults.Ok(new SafetyEscalationsView(await contacts.EscalationsAsync(Caller.From(user).TenantId, (int)take, ct)));
    }
}

public sealed record SafetyContactsView(IReadOnlyList<string> UserIds);

public sealed record SafetyEscalationsView(IReadOnlyList<SafetyEscalationRecord> Items);
