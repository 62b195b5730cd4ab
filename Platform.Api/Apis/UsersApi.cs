using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Security;
using Platform.Core.Notifications;
using Platform.Core.Security;

namespace Platform.Api.Apis;

public sealed record UserTokenRequest(string[]? Roles, int? TtlSeconds);

public sealed record UserTokenIssued(string Token, string UserId, IReadOnlyList<string> Roles, int ExpiresIn, string StreamUrl);

public sealed record UserTokenServices(ClientTokens Tokens, RealtimeNodes Nodes);

/// <summary>User-scoped client tokens: no conversation, the user's own notifications and the roles other modules check.</summary>
public static class UsersApi
{
    public static RouteGroupBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/users").WithTags("Users").RequireAuthorization(AuthPolicies.Tenant)
            .AddEndpointFilter<TenantRateLimitFilter>()
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        api.MapPost("/{userId}/tokens", IssueUserToken).WithName("IssueUserToken")
            .WithSummary("Issue a user-scoped client token (roles, ttlSeconds) with the streamUrl of the user's notification stream.")
            .Accepts<UserTokenRequest>("application/json").ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return api;
    }

    public static async Task<Results<Created<UserTokenIssued>, ProblemHttpResult>> IssueUserToken(string userId, HttpRequest request, ClaimsPrincipal user,
        [AsParameters] UserTokenServices services)
    {
        if (string.IsNullOrWhiteSpace(userId) || userId.Length > NotificationRules.MaxIdLength)
        {
            return Problems.Invalid("userId", $"userId must be 1–{NotificationRules.MaxIdLength} characters.");
        }
        var (body, problem) = await JsonBody.ReadAsync(request, NotificationsApiJsonContext.Default.UserTokenRequest, allowEmpty: true);
        if (problem is not null)
        {
            return problem;
        }
        var roles = body?.Roles ?? [];
        if (roles.FirstOrDefault(r => !UserRoles.All.Contains(r)) is { } unknown)
        {
            return Problems.Invalid("roles", $"Unknown role '{unknown}'; roles are {string.Join(", ", UserRoles.All)}.");
        }
        var maxSeconds = (int)ClientTokens.MaxLifetime.TotalSeconds;
        if (body?.TtlSeconds is < 1 || body?.TtlSeconds > maxSeconds)
        {
            return Problems.Invalid("ttlSeconds", $"ttlSeconds must be from 1 to {maxSeconds} (24 hours); the default is 3600.");
        }
        var lifetime = ClientTokens.Lifetime(body?.TtlSeconds);
        var token = services.Tokens.Issue(Caller.From(user).TenantId, userId, null, lifetime, roles.Distinct(),
            new Dictionary<string, object> { ["user"] = userId }, issuedUnder: Caller.Origin(user));
        var streamUrl = await services.Nodes.NextStreamUrlAsync(token, request.HttpContext.RequestAborted);
        if (streamUrl is null)
        {
            return Problems.Unavailable("No Realtime node is configured (services:realtime:http:0).");
        }
        return TypedResults.Created($"/v1/users/{Uri.EscapeDataString(userId)}",
            new UserTokenIssued(token, userId, [.. roles.Distinct()], (int)lifetime.TotalSeconds, streamUrl));
    }
}

public sealed record PushSubscriptionKeys(string? P256dh, string? Auth);

public sealed record PushSubscriptionRequest(string? Endpoint, PushSubscriptionKeys? Keys);

public sealed record PushSubscriptionView(Guid Id, string Endpoint, string Status, string? Reason, DateTimeOffset CreatedAt);

public sealed record NotificationPage(IReadOnlyList<InAppNotification> Items, string? NextCursor);

public sealed record PreferencesView(bool Enabled, DateTimeOffset? PauseUntil, IReadOnlyList<string> OptedOutTypes);

public sealed record ReplayAccepted(long OutboxId, int Deliveries);

public sealed record WebhookRequest(string? Url, string[]? EventTypes);

public sealed record WebhookCreated(Guid Id, string Url, IReadOnlyList<string> EventTypes, string Status, string Secret, DateTimeOffset CreatedAt);

public sealed record WebhookDeliveryPage(IReadOnlyList<WebhookDelivery> Items);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(UserTokenRequest))]
[JsonSerializable(typeof(UserTokenIssued))]
[JsonSerializable(typeof(PushSubscriptionRequest))]
[JsonSerializable(typeof(PushSubscriptionView))]
[JsonSerializable(typeof(IReadOnlyList<PushSubscriptionView>))]
[JsonSerializable(typeof(NotificationPage))]
[JsonSerializable(typeof(PreferencesView))]
[JsonSerializable(typeof(ReplayAccepted))]
[JsonSerializable(typeof(WebhookRequest))]
[JsonSerializable(typeof(WebhookCreated))]
[JsonSerializable(typeof(WebhookEndpoint))]
[JsonSerializable(typeof(IReadOnlyList<WebhookEndpoint>))]
[JsonSerializable(typeof(WebhookDeliveryPage))]
[JsonSerializable(typeof(JsonElement))]
public sealed partial class NotificationsApiJsonContext : JsonSerializerContext;
