using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Security;
using Platform.Core.Notifications;
using Platform.Core.Security;

namespace Platform.Api.Apis;

/// <summary>The signed-in user's notifications (user-scoped client token), and the operator's replay.</summary>
public static class NotificationsApi
{
    public static IEndpointRouteBuilder MapNotificationsApi(this IEndpointRouteBuilder app)
    {
        var me = app.MapGroup("/v1/me").WithTags("Notifications").RequireAuthorization(AuthPolicies.User)
            .AddEndpointFilter<TenantRateLimitFilter>().ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
        me.MapGet("/notification-preferences", GetPreferences).WithName("GetNotificationPreferences")
            .WithSummary("The caller's notification preferences: enabled, pauseUntil, optedOutTypes.");
        me.MapPatch("/notification-preferences", UpdatePreferences).WithName("UpdateNotificationPreferences")
            .WithSummary("Change enabled, pauseUntil (null resumes) and/or optedOutTypes; absent fields stay as they are.")
            .Accepts<PreferencesView>("application/json").ProducesProblem(StatusCodes.Status400BadRequest);
        me.MapPost("/push-subscriptions", AddPushSubscription).WithName("AddPushSubscription")
            .WithSummary("Register a Web Push subscription (PushSubscription.toJSON(): endpoint, keys.p256dh, keys.auth).")
            .Accepts<PushSubscriptionRequest>("application/json").ProducesProblem(StatusCodes.Status400BadRequest);
        me.MapGet("/push-subscriptions", ListPushSubscriptions).WithName("ListPushSubscriptions")
            .WithSummary("The caller's Web Push subscriptions; status suppressed means the push service reported them gone.");
        me.MapDelete("/push-subscriptions/{id}", DeletePushSubscription).WithName("DeletePushSubscription")
            .WithSummary("Remove a Web Push subscription.").ProducesProblem(StatusCodes.Status404NotFound);
        me.MapGet("/notifications", ListNotifications).WithName("ListNotifications")
            .WithSummary("In-app notifications, newest first; page with ?cursor={nextCursor}&limit=.").ProducesProblem(StatusCodes.Status400BadRequest);
        me.MapPost("/notifications/{id}/read", MarkRead).WithName("MarkNotificationRead")
            .WithSummary("Mark an in-app notification read: it is no longer replayed when a stream connects.").ProducesProblem(StatusCodes.Status404NotFound);

        app.MapGroup("/v1/internal/notifications").WithTags("Notifications").RequireAuthorization(AuthPolicies.Operator)
            .MapPost("/replay/{outboxId}", Replay).WithName("ReplayNotification")
            .WithSummary("Operator: send one outbox item again on every channel it had.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static (Guid Tenant, string User) Me(ClaimsPrincipal user)
    {
        var caller = Caller.From(user);
        return (caller.TenantId, caller.UserId!);
    }

    public static async Task<Ok<PreferencesView>> GetPreferences(ClaimsPrincipal user, NotificationPreferences preferences, CancellationToken ct)
    {
        var (tenant, userId) = Me(user);
        var p = await preferences.GetAsync(tenant, userId, ct);
        return TypedResults.Ok(new PreferencesView(p.Enabled, p.PauseUntil, p.OptedOutTypes));
    }

    public static async Task<Results<Ok<PreferencesView>, ProblemHttpResult>> UpdatePreferences(HttpRequest request, ClaimsPrincipal user,
        NotificationPreferences preferences, CancellationToken ct)
    {
        // Read as a document: "pauseUntil": null (resume now) differs from leaving pauseUntil out.
        var (body, problem) = await JsonBody.ReadAsync(request, NotificationsApiJsonContext.Default.JsonElement);
        if (problem is not null)
        {
            return problem;
        }
        if (body.ValueKind != JsonValueKind.Object)
        {
            return Problems.Invalid("body", "The body must be a JSON object.");
        }
        var (tenant, userId) = Me(user);
        var current = await preferences.GetAsync(tenant, userId, ct);
        var enabled = current.Enabled;
        var pauseUntil = current.PauseUntil;
        var optedOut = current.OptedOutTypes;
        foreach (var property in body.EnumerateObject())
        {
            switch (property.Name)
            {
                case "enabled" when property.Value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                    enabled = property.Value.GetBoolean();
                    break;
                case "enabled":
                    return Problems.Invalid("enabled", "enabled must be true or false.");
                case "pauseUntil" when property.Value.ValueKind == JsonValueKind.Null:
                    pauseUntil = null;
                    break;
                case "pauseUntil" when property.Value.ValueKind == JsonValueKind.String
                    && DateTimeOffset.TryParse(property.Value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var until):
                    pauseUntil = until;
                    break;
                case "pauseUntil":
                    return Problems.Invalid("pauseUntil", "pauseUntil must be an ISO 8601 date-time (e.g. 2026-12-01T08:00:00Z) or null.");
                case "optedOutTypes" when property.Value.ValueKind == JsonValueKind.Array
                    && property.Value.EnumerateArray().All(t => t.ValueKind == JsonValueKind.String && NotificationRules.IsType(t.GetString())):
                    optedOut = [.. property.Value.EnumerateArray().Select(t => t.GetString()!).Distinct()];
                    if (optedOut.Count > 200)
                    {
                        return Problems.Invalid("optedOutTypes", "At most 200 types can be opted out of.");
                    }
                    break;
                case "optedOutTypes":
                    return Problems.Invalid("optedOutTypes", "optedOutTypes must be an array of notification types (lowercase letters, digits, '.', '_', '-').");
                default:
                    return Problems.Invalid(property.Name, $"Unknown field '{property.Name}'; send enabled, pauseUntil and/or optedOutTypes.");
            }
        }
        var saved = await preferences.SaveAsync(tenant, userId, new NotificationPreference(enabled, pauseUntil, optedOut), ct);
        return TypedResults.Ok(new PreferencesView(saved.Enabled, saved.PauseUntil, saved.OptedOutTypes));
    }

    public static async Task<Results<Created<PushSubscriptionView>, ProblemHttpResult>> AddPushSubscription(HttpRequest request, ClaimsPrincipal user,
        PushSubscriptions subscriptions, OutboundOptions outbound, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, NotificationsApiJsonContext.Default.PushSubscriptionRequest);
        if (problem is not null)
        {
            return problem;
        }
        if (!Uri.TryCreate(body!.Endpoint, UriKind.Absolute, out var endpoint) || body.Endpoint!.Length > 2000
            || OutboundHttp.WhyRefused(endpoint, outbound, requireHttps: true) is not null)
        {
            return Problems.Invalid("endpoint", "endpoint must be the push service's absolute https URL from the browser's PushSubscription (a public host).");
        }
        if (!Base64Url.TryDecode(body.Keys?.P256dh, out var p256dh) || !P256.IsValidPublicKey(p256dh))
        {
            return Problems.Invalid("keys.p256dh", "keys.p256dh must be a base64url P-256 public key (65 bytes, uncompressed).");
        }
        if (!Base64Url.TryDecode(body.Keys?.Auth, out var auth) || auth.Length != 16)
        {
            return Problems.Invalid("keys.auth", "keys.auth must be the base64url 16-byte authentication secret.");
        }
        var (tenant, userId) = Me(user);
        var s = await subscriptions.AddAsync(tenant, userId, body.Endpoint, body.Keys!.P256dh!, body.Keys.Auth!, ct);
        return TypedResults.Created($"/v1/me/push-subscriptions/{s.Id}", new PushSubscriptionView(s.Id, s.Endpoint, s.Status, s.Reason, s.CreatedAt));
    }

    public static async Task<Ok<IReadOnlyList<PushSubscriptionView>>> ListPushSubscriptions(ClaimsPrincipal user, PushSubscriptions subscriptions,
        CancellationToken ct)
    {
        var (tenant, userId) = Me(user);
        var list = await subscriptions.ListAsync(tenant, userId, ct);
        return TypedResults.Ok<IReadOnlyList<PushSubscriptionView>>([.. list.Select(s => new PushSubscriptionView(s.Id, s.Endpoint, s.Status, s.Reason, s.CreatedAt))]);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeletePushSubscription(string id, ClaimsPrincipal user, PushSubscriptions subscriptions,
        CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var subscriptionId, out var problem))
        {
            return problem!;
        }
        var (tenant, userId) = Me(user);
        return await subscriptions.DeleteAsync(tenant, userId, subscriptionId, ct) ? TypedResults.NoContent() : Problems.NotFound("Push subscription");
    }

    public static async Task<Results<Ok<NotificationPage>, ProblemHttpResult>> ListNotifications(string? cursor, string? limit, ClaimsPrincipal user,
        NotificationInbox inbox, CancellationToken ct)
    {
        if (!Problems.TryParseQuery(limit, "limit", 1, 200, 50, out var take, out var problem))
        {
            return problem!;
        }
        long? before = null;
        if (cursor is not null)
        {
            if (!long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var c))
            {
                return Problems.Invalid("cursor", "cursor must be the nextCursor of a previous page.");
            }
            before = c;
        }
        var (tenant, userId) = Me(user);
        var items = await inbox.PageAsync(tenant, userId, before, (int)take, ct);
        return TypedResults.Ok(new NotificationPage(items, items.Count == take ? items[^1].Id.ToString(CultureInfo.InvariantCulture) : null));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> MarkRead(string id, ClaimsPrincipal user, NotificationInbox inbox, CancellationToken ct)
    {
        if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var notificationId))
        {
            return Problems.Invalid("id", "id must be a notification id (an integer).");
        }
        var (tenant, userId) = Me(user);
        return await inbox.MarkReadAsync(tenant, userId, notificationId, ct) ? TypedResults.NoContent() : Problems.NotFound("Notification");
    }

    public static async Task<Results<Accepted<ReplayAccepted>, ProblemHttpResult>> Replay(string outboxId, NotificationReplay replay, CancellationToken ct)
    {
        if (!long.TryParse(outboxId, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            return Problems.Invalid("outboxId", "outboxId must be an outbox id (an integer).");
        }
        return await replay.ReplayAsync(id, ct) is { } count
            ? TypedResults.Accepted((string?)null, new ReplayAccepted(id, count))
            : Problems.NotFound("Notification");
    }
}
