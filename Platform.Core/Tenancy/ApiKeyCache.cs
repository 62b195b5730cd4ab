using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Security;

namespace Platform.Core.Tenancy;

/// <summary>
/// Resolved tenant API keys, kept for a short lifetime so an API request does not spend a PostgreSQL round trip on
/// its key. Every revocation, key deletion and tenant status change NOTIFYs at commit (a trigger, whoever wrote it);
/// the notification empties the cache, so another host refuses a revoked key as soon as the notification arrives,
/// and the host that made the change empties its own cache before it answers. While the LISTEN connection is down
/// (and until it has reconnected, which empties the cache again) nothing is served from the cache. Unknown keys are
/// never cached, so a newly issued key works at once.
/// </summary>
public sealed partial class ApiKeyCache : BackgroundService
{
    public const string NotifyChannel = "platform_credentials_changed";
    /// <summary>More entries than this empties the cache rather than grow it (keys are few; a flood of random keys is not cached at all).</summary>
    private const int MaxEntries = 10_000;

    private readonly CredentialLookup _lookup;
    private readonly TimeProvider _time;
    private readonly CommitSignal _signal;
    private readonly TimeSpan _lifetime;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private long _generation;

    private sealed record Entry(CredentialOwner Owner, long ExpiresAt);

    public ApiKeyCache(NpgsqlDataSource db, CredentialLookup lookup, TimeProvider time, IConfiguration configuration, ILogger<ApiKeyCache> logger)
    {
        _lookup = lookup;
        _time = time;
        _lifetime = configuration.GetValue("Platform:ApiKeyCache:Lifetime", TimeSpan.FromSeconds(30));
        _signal = new CommitSignal(db, NotifyChannel, logger);
        _signal.Woken += Invalidate;
    }

    /// <summary>The key's owner as <see cref="CredentialLookup.FindApiKeyAsync"/> would answer it now, at most one lifetime old.</summary>
    public async Task<CredentialOwner?> FindApiKeyAsync(string apiKey, CancellationToken ct = default)
    {
        var hash = Credentials.Hash(apiKey);
        var now = _time.GetTimestamp();
        if (_signal.Listening && _entries.TryGetValue(hash, out var hit) && hit.ExpiresAt > now)
        {
            return hit.Owner;
        }
        // An invalidation while the read is in flight may concern what it read: such a result is not kept.
        var generation = Interlocked.Read(ref _generation);
        var owner = await _lookup.FindApiKeyByHashAsync(hash, ct);
        if (owner is not null && _signal.Listening && _lifetime > TimeSpan.Zero)
        {
            if (_entries.Count >= MaxEntries)
            {
                _entries.Clear();
            }
            _entries[hash] = new Entry(owner, now + (long)(_lifetime.TotalSeconds * _time.TimestampFrequency));
            if (Interlocked.Read(ref _generation) != generation)
            {
                _entries.TryRemove(hash, out _);
            }
        }
        return owner;
    }

    /// <summary>Whether the cache is in use: its LISTEN connection is up (until then every key is read from PostgreSQL).</summary>
    public bool Listening => _signal.Listening;

    /// <summary>Forgets every resolved key (a credential or tenant changed somewhere).</summary>
    public void Invalidate()
    {
        Interlocked.Increment(ref _generation);
        _entries.Clear();
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => _signal.ListenAsync(stoppingToken);

    public override void Dispose()
    {
        _signal.Dispose();
        base.Dispose();
    }
}
