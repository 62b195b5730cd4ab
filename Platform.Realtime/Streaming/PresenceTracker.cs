using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Platform.Core.Events;
using Platform.Core.Security;
using StackExchange.Redis;

namespace Platform.Realtime.Streaming;

/// <summary>Presence tuning (configuration section <c>Platform:Presence</c>).</summary>
public sealed class PresenceOptions
{
    public const string Section = "Platform:Presence";

    /// <summary>How long a connection counts as online without a refresh; it is refreshed every third of this.</summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Marks a Realtime connection's user online in Redis (<see cref="PresenceStore"/>) for as long as the socket is
/// open: registered when it opens, refreshed every Ttl/3, removed when it closes. Transitions (first connection,
/// last one gone) are published on the tenant's events channel. Registration runs in the background so the
/// conversation stream's connect path waits on nothing new.
/// </summary>
public sealed partial class PresenceTracker(PresenceStore store, EventsBus bus, IOptions<PresenceOptions> options, ILogger<PresenceTracker> logger)
{
    private readonly PresenceStore _store = store;
    private readonly EventsBus _bus = bus;
    private readonly PresenceOptions _options = options.Value;
    private readonly ILogger _logger = logger;

    public IAsyncDisposable Track(Guid tenantId, string userId) => new Lease(this, tenantId, userId);

    private sealed class Lease : IAsyncDisposable
    {
        private readonly PresenceTracker _owner;
        private readonly Guid _tenantId;
        private readonly string _userId;
        private readonly string _connectionId = Guid.NewGuid().ToString("N");
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        public Lease(PresenceTracker owner, Guid tenantId, string userId)
        {
            _owner = owner;
            _tenantId = tenantId;
            _userId = userId;
            _loop = Task.Run(RefreshAsync);
        }

        private async Task RefreshAsync()
        {
            var ttl = _owner._options.Ttl;
            using var timer = new PeriodicTimer(ttl / 3);
            do
            {
                try
                {
                    if (await _owner._store.TouchAsync(_tenantId, _userId, _connectionId, ttl))
                    {
                        await _owner._bus.PublishAsync(_tenantId, new EventUpdate("presence", null, _userId, PresenceStore.Online, null));
                    }
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException)
                {
                    LogPresenceFailed(_owner._logger, _userId, ex.Message); // Redis down: the next tick tries again
                }
            }
            while (await WaitAsync(timer));
        }

        private async Task<bool> WaitAsync(PeriodicTimer timer)
        {
            try
            {
                return await timer.WaitForNextTickAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            try
            {
                if (await _owner._store.LeaveAsync(_tenantId, _userId, _connectionId))
                {
                    await _owner._bus.PublishAsync(_tenantId, new EventUpdate("presence", null, _userId, PresenceStore.Away, null));
                }
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                LogPresenceFailed(_owner._logger, _userId, ex.Message); // the entry lapses on its own after the TTL
            }
            _stop.Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Presence update for {UserId} failed: {Reason}")]
    private static partial void LogPresenceFailed(ILogger logger, string userId, string reason);
}
