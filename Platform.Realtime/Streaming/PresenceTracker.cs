using System.Collections.Concurrent;
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
/// conversation stream's connect path waits on nothing new. One node-wide timer refreshes every open connection,
/// instead of a timer, a loop and a cancellation source per socket.
/// </summary>
public sealed partial class PresenceTracker(PresenceStore store, EventsBus bus, IOptions<PresenceOptions> options, ILogger<PresenceTracker> logger)
    : BackgroundService
{
    private readonly PresenceStore _store = store;
    private readonly EventsBus _bus = bus;
    private readonly PresenceOptions _options = options.Value;
    private readonly ILogger _logger = logger;
    private readonly ConcurrentDictionary<Lease, byte> _live = new();

    /// <summary>How many Redis refreshes run at once on each tick.</summary>
    private const int RefreshConcurrency = 64;

    public IAsyncDisposable Track(Guid tenantId, string userId)
    {
        var lease = new Lease(this, tenantId, userId);
        _live[lease] = 0;
        return lease;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.Ttl / 3);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await Parallel.ForEachAsync(_live.Keys, new ParallelOptions { MaxDegreeOfParallelism = RefreshConcurrency, CancellationToken = stoppingToken },
                    async (lease, _) => await lease.RefreshAsync());
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private sealed class Lease : IAsyncDisposable
    {
        private readonly PresenceTracker _owner;
        private readonly Guid _tenantId;
        private readonly string _userId;
        private readonly string _connectionId = Guid.NewGuid().ToString("N");
        private readonly Lock _gate = new();
        private Task _touching;
        private bool _leaving;

        public Lease(PresenceTracker owner, Guid tenantId, string userId)
        {
            _owner = owner;
            _tenantId = tenantId;
            _userId = userId;
            _touching = Task.Run(TouchAsync);
        }

        /// <summary>The node-wide tick: touches again unless the connection is leaving or its last touch is still under way.</summary>
        public Task RefreshAsync()
        {
            lock (_gate)
            {
                if (_leaving || !_touching.IsCompleted)
                {
                    return Task.CompletedTask;
                }
                return _touching = TouchAsync();
            }
        }

        private async Task TouchAsync()
        {
            try
            {
                if (await _owner._store.TouchAsync(_tenantId, _userId, _connectionId, _owner._options.Ttl))
                {
                    await _owner._bus.PublishAsync(_tenantId, new EventUpdate("presence", null, _userId, PresenceStore.Online, null));
                }
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                LogPresenceFailed(_owner._logger, _userId, ex.Message); // Redis down: the next tick tries again
            }
        }

        public async ValueTask DisposeAsync()
        {
            _owner._live.TryRemove(this, out _);
            Task last;
            lock (_gate)
            {
                _leaving = true;
                last = _touching;
            }
            await last; // a touch still under way must not re-register the connection after it left
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
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Presence update for {UserId} failed: {Reason}")]
    private static partial void LogPresenceFailed(ILogger logger, string userId, string reason);
}
