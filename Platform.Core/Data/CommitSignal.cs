using Microsoft.Extensions.Logging;
using Npgsql;

namespace Platform.Core.Data;

/// <summary>
/// Wakes a loop that drains rows other transactions commit (an outbox relay): <c>LISTEN</c> on a PostgreSQL channel
/// that the producers' commits <c>NOTIFY</c>, reconnecting after a lost connection and waking once after every
/// (re)connect for what was committed while nobody listened. The loop still polls at its own interval, so a lost
/// notification delays work by at most that interval and loses nothing.
/// </summary>
public sealed partial class CommitSignal(NpgsqlDataSource db, string channel, ILogger logger) : IDisposable
{
    private readonly SemaphoreSlim _wake = new(0, 1);
    private volatile bool _listening;

    /// <summary>Raised on every wake-up: a notification, or a (re)connect after which earlier ones may have been missed.</summary>
    public event Action? Woken;

    /// <summary>Whether notifications are being received right now (false before the first LISTEN and after a lost connection).</summary>
    public bool Listening => _listening;

    /// <summary>Listens until <paramref name="ct"/> is cancelled; start it once, without awaiting it.</summary>
    public async Task ListenAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var conn = await db.OpenConnectionAsync(ct);
                conn.Notification += (_, _) => Wake();
                await using (var listen = new NpgsqlCommand($"LISTEN {channel}", conn))
                {
                    await listen.ExecuteNonQueryAsync(ct);
                }
                _listening = true;
                Wake(); // anything committed while not listening
                while (!ct.IsCancellationRequested)
                {
                    await conn.WaitAsync(ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                _listening = false;
                return;
            }
            catch (Exception ex)
            {
                _listening = false;
                LogListenFailed(logger, ex, channel);
                await PauseAsync(TimeSpan.FromSeconds(1), ct);
            }
        }
    }

    /// <summary>Waits for a notification or <paramref name="poll"/>, whichever comes first; false once cancelled.</summary>
    public async Task<bool> WaitAsync(TimeSpan poll, CancellationToken ct)
    {
        try
        {
            await _wake.WaitAsync(poll, ct);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>A pause that ends quietly on cancellation (after a failed round).</summary>
    public static async Task PauseAsync(TimeSpan delay, CancellationToken ct)
    {
        try
        {
            await Task.Delay(delay, ct);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Wake()
    {
        Woken?.Invoke();
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already awake.
        }
    }

    public void Dispose() => _wake.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "LISTEN {Channel} connection failed; reconnecting")]
    private static partial void LogListenFailed(ILogger logger, Exception ex, string channel);
}
