using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Security;
using Platform.Core.Notifications;

namespace Platform.Api.Apis;

/// <summary>
/// Per type × channel preferences: the signed-in user's choices (<c>/v1/me/notification-channels</c>) and the
/// tenant's defaults (<c>/v1/notification-defaults</c>, tenant key).
/// </summary>
public static class NotificationChannelsApi
{
    public static IEndpointRouteBuilder MapNotificationChannelsApi(this IEndpointRouteBuilder app)
    {
        var me = app.MapGroup("/v1/me").WithTags("Notifications").RequireAuthorization(AuthPolicies.User)
            .AddEndpointFilter<TenantRateLimitFilter>().ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
        me.MapGet("/notification-channels", GetMine).WithName("GetNotificationChannels")
            .WithSummary("The caller's per type × channel choices and the tenant defaults they override.");
        me.MapPatch("/notification-channels", PatchMine).WithName("UpdateNotificationChannels")
            .WithSummary("Set or remove choices: {preferences: [{type ('*' = every type), channel, enabled (true, false, or null to remove)}]}.")
            .Accepts<ChannelChoicesRequest>("application/json").ProducesProblem(StatusCodes.Status400BadRequest);

        var tenant = app.MapGroup("/v1/notification-defaults").WithTags("Notifications").RequireAuthorization(AuthPolicies.Tenant)
            .AddEndpointFilter<TenantRateLimitFilter>().ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
        tenant.MapGet("/", GetDefaults).WithName("GetNotificationDefaults").WithSummary("The tenant's per type × channel defaults.");
        tenant.MapPatch("/", PatchDefaults).WithName("UpdateNotificationDefaults")
            .WithSummary("Set or remove defaults: {preferences: [{type, channel, enabled (null removes)}]}.")
            .Accepts<ChannelChoicesRequest>("application/json").ProducesProblem(StatusCodes.Status400BadRequest);
        return app;
    }

    public static async Task<Ok<MyChannelChoicesView>> GetMine(ClaimsPrincipal user, ChannelPreferences preferences, CancellationToken ct)
    {
        var caller = Caller.From(user);
        return TypedResults.Ok(new MyChannelChoicesView(ChannelNames.AllNames,
            await preferences.UserChoicesAsync(caller.TenantId, caller.UserId!, ct), await preferences.TenantDefaultsAsync(caller.TenantId, ct)));
    }

    public static async Task<Results<Ok<MyChannelChoicesView>, ProblemHttpResult>> PatchMine(HttpRequest request, ClaimsPrincipal user,
        ChannelPreferences preferences, CancellationToken ct)
    {
        var (changes, problem) = await ReadChangesAsync(request);
        if (problem is not null)
        {
            return problem;
        }
        var caller = Caller.From(user);
        await preferences.SaveUserChoicesAsync(caller.TenantId, caller.UserId!, changes!, ct);
        return TypedResults.Ok(new MyChannelChoicesView(ChannelNames.AllNames,
            await preferences.UserChoicesAsync(caller.TenantId, caller.UserId!, ct), await preferences.TenantDefaultsAsync(caller.TenantId, ct)));
    }

    public static async Task<Ok<TenantChannelDefaultsView>> GetDefaults(ClaimsPrincipal user, ChannelPreferences preferences, CancellationToken ct) =>
        TypedResults.Ok(new TenantChannelDefaultsView(ChannelNames.AllNames, await preferences.TenantDefaultsAsync(Caller.From(user).TenantId, ct)));

    public static async Task<Results<Ok<TenantChannelDefaultsView>, ProblemHttpResult>> PatchDefaults(HttpRequest request, ClaimsPrincipal user,
        ChannelPreferences preferences, CancellationToken ct)
    {
        var (changes, problem) = await ReadChangesAsync(request);
        if (problem is not null)
        {
            return problem;
        }
        var tenantId = Caller.From(user).TenantId;
        await preferences.SaveTenantDefaultsAsync(tenantId, changes!, ct);
        return TypedResults.Ok(new TenantChannelDefaultsView(ChannelNames.AllNames, await preferences.TenantDefaultsAsync(tenantId, ct)));
    }

    /// <summary>Validates the whole request before anything is stored: one bad entry refuses all of them.</summary>
    private static async Task<(IReadOnlyList<ChannelChoiceChange>? Changes, ProblemHttpResult? Problem)> ReadChangesAsync(HttpRequest request)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, NotificationChannelsJsonContext.Default.JsonElement);
        if (problem is not null)
        {
            return (null, problem);
        }
        if (body.ValueKind != JsonValueKind.Object)
        {
            return (null, Problems.Invalid("body", "The body must be a JSON object {\"preferences\": [...]}."));
        }
        JsonElement list = default;
        foreach (var property in body.EnumerateObject())
        {
            if (property.Name != "preferences")
            {
                return (null, Problems.Invalid(property.Name, $"Unknown field '{property.Name}'; send preferences."));
            }
            list = property.Value;
        }
        if (list.ValueKind != JsonValueKind.Array)
        {
            return (null, Problems.Invalid("preferences", "preferences must be an array of {type, channel, enabled}."));
        }
        if (list.GetArrayLength() is 0 or > ChannelPreferences.MaxChangesPerRequest)
        {
            return (null, Problems.Invalid("preferences", $"preferences must hold 1–{ChannelPreferences.MaxChangesPerRequest} entries."));
        }
        var changes = new List<ChannelChoiceChange>();
        var seen = new HashSet<(string, string)>();
        var i = 0;
        foreach (var item in list.EnumerateArray())
        {
            var at = $"preferences[{i++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                return (null, Problems.Invalid(at, "Each entry must be an object {type, channel, enabled}."));
            }
            string? type = null, channel = null;
            bool? enabled = null;
            var hasEnabled = false;
            foreach (var p in item.EnumerateObject())
            {
                switch (p.Name)
                {
                    case "type" when p.Value.ValueKind == JsonValueKind.String:
                        type = p.Value.GetString();
                        break;
                    case "channel" when p.Value.ValueKind == JsonValueKind.String:
                        channel = p.Value.GetString();
                        break;
                    case "enabled" when p.Value.ValueKind is JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null:
                        hasEnabled = true;
                        enabled = p.Value.ValueKind == JsonValueKind.Null ? null : p.Value.GetBoolean();
                        break;
                    case "type" or "channel" or "enabled":
                        return (null, Problems.Invalid($"{at}.{p.Name}", $"{p.Name} has the wrong JSON type."));
                    default:
                        return (null, Problems.Invalid($"{at}.{p.Name}", $"Unknown field '{p.Name}'; send type, channel and enabled."));
                }
            }
            if (!ChannelPreferences.IsTypeOrAny(type))
            {
                return (null, Problems.Invalid($"{at}.type", "type must be '*' or a notification type (lowercase letters, digits, '.', '_', '-'; e.g. civic.meeting-summary)."));
            }
            if (!ChannelPreferences.IsChannel(channel))
            {
                return (null, Problems.Invalid($"{at}.channel", $"channel must be one of {string.Join(", ", ChannelNames.AllNames)}."));
            }
            if (!hasEnabled)
            {
                return (null, Problems.Invalid($"{at}.enabled", "enabled is required: true, false, or null to remove the choice."));
            }
            if (!seen.Add((type!, channel!)))
            {
                return (null, Problems.Invalid(at, $"({type}, {channel}) appears more than once."));
            }
            changes.Add(new ChannelChoiceChange(type!, channel!, enabled));
        }
        return (changes, null);
    }
}

public sealed record ChannelChoicesRequest(IReadOnlyList<ChannelChoiceChange> Preferences);

public sealed record MyChannelChoicesView(IReadOnlyList<string> Channels, IReadOnlyList<ChannelChoice> Preferences, IReadOnlyList<ChannelChoice> TenantDefaults);

public sealed record TenantChannelDefaultsView(IReadOnlyList<string> Channels, IReadOnlyList<ChannelChoice> Defaults);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ChannelChoicesRequest))]
[JsonSerializable(typeof(MyChannelChoicesView))]
[JsonSerializable(typeof(TenantChannelDefaultsView))]
[JsonSerializable(typeof(NotificationSettingsView))]
[JsonSerializable(typeof(BrandingView))]
[JsonSerializable(typeof(BounceReportView))]
[JsonSerializable(typeof(VerificationSent))]
[JsonSerializable(typeof(SafetyContactsView))]
[JsonSerializable(typeof(SafetyEscalationsView))]
[JsonSerializable(typeof(JsonElement))]
public sealed partial class NotificationChannelsJsonContext : JsonSerializerContext;
