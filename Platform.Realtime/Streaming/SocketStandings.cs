using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Platform.Core.Security;
using Platform.Core.Tenancy;
using StackExchange.Redis;

namespace Platform.Realtime.Streaming;

/// <summary>
/// Why a live socket must end, and the close code that says it: 4401 when its token expired or the credential that
/// minted it was revoked or rotated, 4403 when its tenant or channel was deactivated.
/// </summary>
public sealed class SocketStanding : IDisposable
{
    private readonly CancellationTokenSource _ended = new();
    private readonly SocketStandings _owner;

    internal SocketStanding(SocketStandings owner, ClientTokenClaims claims, Guid? channelId)
    {
        _owner = owner;
        Claims = claims;
        ChannelId = channelId;
    }

    public ClientTokenClaims Claims { get; }

    /// <summary>The channel of the socket's conversation, if any.</summary>
    public Guid? ChannelId { get; }

    /// <summary>Cancelled when the socket must end; <see cref="EndedBy"/> then says with which code.</summary>
    public CancellationToken Ended => _ended.Token;

    public (int Code, string Reason)? EndedBy { get; private set; }

    internal void End(int code, string reason)
    {
        lock (_ended)
        {
            if (EndedBy is not null)
            {
                return;
            }
            EndedBy = (code, reason);
        }
        try
        {
            _ended.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>The code to close with when the stream's loop was cancelled: the standing's reason, else a restart.</summary>
    public (int Code, string Reason) CloseFor(int otherwise, string otherReason) => EndedBy ?? (otherwise, otherReason);

    public void Dispose()
    {
        _owner.Remove(this);
        _ended.Dispose();
    }
}

/// <summary>
/// Every live socket's standing on this node. A socket ends at its token's expiry (one node-wide check every
/// <see cref="ExpiryCheckInterval"/> rather than a timer per socket); when Api pushes a revocation over
/// Redis (<see cref="Revocations.Channel"/>: a tenant's or channel's status changed, a secret rotated, a key revoked)
/// the sockets concerned are re-checked against PostgreSQL at once and closed if they no longer stand; and every
/// <see cref="StreamOptions.StandingRecheckInterval"/> all sockets are re-checked, which covers a push lost while Redis
/// was down.
/// </summary>
public sealed partial class SocketStandings(IConnectionMultiplexer redis, CredentialLookup credentials, IOptions<StreamOptions> options,
    TimeProvider time, ILogger<SocketStandings> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<SocketStanding, byte> _live = new();

    public int Count => _live.Count;

    /// <summary>How late past its token's expiry a socket may be closed.</summary>
    public static readonly TimeSpan ExpiryCheckInterval = TimeSpan.FromSeconds(1);

    public SocketStanding Track(ClientTokenClaims claims, Guid? channelId = null)
    {
        var standing = new SocketStanding(this, claims, channelId);
        _live[standing] = 0;
        if (claims.ExpiresAt <= time.GetUtcNow())
        {
            standing.End(CloseCodes.Unauthorized, "token expired");
        }
        return standing;
    }

    internal void Remove(SocketStanding standing) => _live.TryRemove(standing, out _);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await redis.GetSubscriber().SubscribeAsync(new RedisChannel(Revocations.Channel, RedisChannel.PatternMode.Literal),
                (_, value) => OnRevocationAsync((string?)value).Forget());
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogSubscribeFailed(logger, ex.Message); // the periodic re-check still applies revocations
        }
        var expiring = ExpireAsync(stoppingToken);
        using var timer = new PeriodicTimer(options.Value.StandingRecheckInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await RecheckAsync(_live.Keys, stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
        await expiring;
    }

    /// <summary>Ends every socket whose token has expired: 4401 "token expired".</summary>
    private async Task ExpireAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(ExpiryCheckInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                var now = time.GetUtcNow();
                foreach (var (standing, _) in _live) // enumerates in place: no copy of the keys each second
                {
                    if (standing.EndedBy is null && standing.Claims.ExpiresAt <= now)
                    {
                        standing.End(CloseCodes.Unauthorized, "token expired");
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task OnRevocationAsync(string? subject)
    {
        if (subject?.Split(':') is not [var kind, var id] || !Guid.TryParse(id, out var guid))
        {
            return;
        }
        var concerned = _live.Keys.Where(s => kind switch
        {
            "tenant" => s.Claims.TenantId == guid,
            "channel" => s.ChannelId == guid || s.Claims.IssuedUnder?.StartsWith($"c:{guid}:", StringComparison.Ordinal) == true,
            "apikey" => s.Claims.IssuedUnder == TokenOrigins.ApiKey(guid),
            "authorization" => s.Claims.IssuedUnder == TokenOrigins.Authorization(guid),
            _ => false,
        }).ToList();
        await RecheckAsync(concerned, CancellationToken.None);
    }

    private async Task RecheckAsync(IEnumerable<SocketStanding> standings, CancellationToken ct)
    {
        foreach (var standing in standings)
        {
            if (standing.EndedBy is not null)
            {
                continue;
            }
            try
            {
                if (await credentials.StandingAsync(standing.Claims, ct) is { } lost)
                {
                    standing.End(lost.Revoked ? CloseCodes.Unauthorized : CloseCodes.Forbidden, lost.Reason);
                }
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
            {
                // PostgreSQL unavailable: keep the socket (fail open) until the next check can tell.
                LogRecheckFailed(logger, ex.Message);
                return;
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscribing to revocations failed ({Reason}); sockets are re-checked periodically only")]
    private static partial void LogSubscribeFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Re-checking socket standings failed ({Reason}); sockets stay open until the next check")]
    private static partial void LogRecheckFailed(ILogger logger, string reason);
}

internal static class TaskExtensions
{
    /// <summary>Runs a task without awaiting it; its failures were already handled inside.</summary>
    public static void Forget(this Task task) => _ = task;
}
