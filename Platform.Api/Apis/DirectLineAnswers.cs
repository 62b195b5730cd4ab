using System.Text.Json;
using System.Text.Json.Serialization;

namespace Platform.Api.Apis;

// The JSON shapes Direct Line clients read (botframework-directlinejs, Web Chat, the Bot Framework SDKs).

public sealed record TokenAnswer(string ConversationId, string Token, [property: JsonPropertyName("expires_in")] int ExpiresIn);

public sealed record ConversationAnswer(string ConversationId, string Token, [property: JsonPropertyName("expires_in")] int ExpiresIn, string StreamUrl);

public sealed record ResourceResponse(string Id);

/// <summary>How many uploaded files an erasure deleted.</summary>
public sealed record UploadsErased(int Deleted);

public sealed record SessionAnswer(string SessionId);

public sealed record ErrorBody(string Code, string Message);

public sealed record ErrorResponse(ErrorBody Error);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(TokenAnswer))]
[JsonSerializable(typeof(ConversationAnswer))]
[JsonSerializable(typeof(ResourceResponse))]
[JsonSerializable(typeof(UploadsErased))]
[JsonSerializable(typeof(SessionAnswer))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class DirectLineJsonContext : JsonSerializerContext;
