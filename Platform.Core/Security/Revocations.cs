using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Platform.Core.Security;

/// <summary>
/// Tells every Realtime node, over Redis, that something live sockets may depend on changed: a tenant's or channel's
/// status, a channel secret, an API key. Nodes re-check the standing of the sockets concerned and close those that
/// no longer stand (4401 revoked, 4403 inactive). Best effort: when Redis is down the nodes' periodic re-check
/// (<c>Platform:Realtime:StandingRecheckInterval</c>) catches up.
/// </summary>
public sealed partial class Revocations(IConnectionMultiplexer redis, ILogger<Revocations> logger)
{
    public const string Channel = "platform:revocations";

    public static string Tenant(Guid id) => $"tenant:{id}";
    public static string ChannelOf(Guid id) => $"channel:{id}";
    public static string ApiKey(Guid id) => $"apikey:{id}";
    /// <summary>A sign-in at a tenant's OpenID Connect issuer was revoked or signed out.</summary>
    public static string Authorization(Guid id) => $"authorization:{id}";

    public async Task PublishAsync(string subject)
    {
        try
        {
            await redis.GetSubscriber().PublishAsync(new RedisChannel(Channel, RedisChannel.PatternMode.Literal), subject);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogPublishFailed(logger, subject, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Revocation of {Subject} not pushed to Realtime nodes ({Reason}); their periodic re-check applies it")]
    private static partial void LogPublishFailed(ILogger logger, string subject, string reason);
}
