using System.Text.Json;
using System.Text.Json.Serialization;
using Platform.Core.Messaging;
using Platform.Core.Tenancy;

namespace Platform.Api.Apis;

public sealed record CreateTenantRequest(string? Name);
public sealed record UpdateTenantRequest(string? Name, string? Status);
public sealed record TenantCreated(Guid Id, string Name, string Status, string ApiKey, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);
/// <summary>A page of tenants; <see cref="Next"/> is the <c>after</c> value for the next page (null on the last).</summary>
public sealed record TenantPage(IReadOnlyList<Tenant> Tenants, Guid? Next);

public sealed record CreateChannelRequest(string? Name);
public sealed record UpdateChannelRequest(string? Name, string? Status);
public sealed record ChannelCreated(Guid Id, string Name, string Status, string Secret, DateTimeOffset CreatedAt);
public sealed record ChannelPage(IReadOnlyList<Channel> Channels, Guid? Next);
public sealed record ChannelSecret(string Secret);

public sealed record StartConversationRequest(Guid? ChannelId);
public sealed record TokenRequest(string? UserId, int? TtlSeconds);
public sealed record TokenIssued(string Token, int ExpiresIn, Guid ConversationId, string StreamUrl);

/// <summary>
/// Source-generated JSON for the API's own request and response bodies. Used as a resolver in the host's web
/// options (camelCase, nulls written), so every response carries every field.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(CreateTenantRequest))]
[JsonSerializable(typeof(UpdateTenantRequest))]
[JsonSerializable(typeof(TenantCreated))]
[JsonSerializable(typeof(Tenant))]
[JsonSerializable(typeof(TenantPage))]
[JsonSerializable(typeof(IssuedApiKey))]
[JsonSerializable(typeof(CreateChannelRequest))]
[JsonSerializable(typeof(UpdateChannelRequest))]
[JsonSerializable(typeof(ChannelCreated))]
[JsonSerializable(typeof(Channel))]
[JsonSerializable(typeof(ChannelPage))]
[JsonSerializable(typeof(ChannelSecret))]
[JsonSerializable(typeof(StartConversationRequest))]
[JsonSerializable(typeof(Conversation))]
[JsonSerializable(typeof(TokenRequest))]
[JsonSerializable(typeof(TokenIssued))]
[JsonSerializable(typeof(Microsoft.AspNetCore.Builder.AdminCreateChannelRequest))]
[JsonSerializable(typeof(Microsoft.AspNetCore.Builder.AdminChannelStatusRequest))]
public sealed partial class ApiJsonContext : JsonSerializerContext;
