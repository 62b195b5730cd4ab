using System.Security.Claims;

namespace Platform.Api.Security;

/// <summary>
/// Who is calling, read from the authenticated principal. Data access narrows by it: a channel secret sees
/// only its channel's conversations, a client token only its own conversation.
/// </summary>
public sealed record Caller(string Kind, Guid TenantId, Guid? ChannelId, Guid? ConversationId, string? UserId)
{
    public static Caller From(ClaimsPrincipal user) => new(
        user.FindFirstValue(PlatformClaims.Kind) ?? "",
        Guid.TryParse(user.FindFirstValue(PlatformClaims.Tenant), out var t) ? t : Guid.Empty,
        Guid.TryParse(user.FindFirstValue(PlatformClaims.Channel), out var c) ? c : null,
        Guid.TryParse(user.FindFirstValue(PlatformClaims.Conversation), out var v) ? v : null,
        user.FindFirstValue(PlatformClaims.User));

    /// <summary>The channel a data query is narrowed to: a channel secret's own, otherwise none.</summary>
    public Guid? ChannelScope => Kind == CallerKinds.Channel ? ChannelId : null;

    /// <summary>Whether this caller may see the conversation at all (others get 404, never 403).</summary>
    public bool Reaches(Guid conversationId) => Kind != CallerKinds.Client || ConversationId == conversationId;

    public bool IsClient => Kind == CallerKinds.Client;

    /// <summary>The credential behind this caller (<c>TokenOrigins</c>): client tokens it mints carry it and die with it.</summary>
    public static string? Origin(ClaimsPrincipal user) => user.FindFirstValue(PlatformClaims.Origin);

    /// <summary>For a client token caller: when its refresh chain began.</summary>
    public static DateTimeOffset? FirstIssued(ClaimsPrincipal user) =>
        long.TryParse(user.FindFirstValue(PlatformClaims.FirstIssued), out var s) ? DateTimeOffset.FromUnixTimeSeconds(s) : null;
}
