using System.Buffers;
using System.Net.WebSockets;
using System.Threading.Channels;
using Npgsql;
using Platform.Core.Messaging;

namespace Platform.Realtime.Streaming;

/// <summary>
/// One client's stream of one conversation. Live events queue up from the moment the feed is joined; the
/// connection first replays <c>seq &gt; watermark</c> from PostgreSQL, then drains the queue keeping
/// <c>nextExpected</c>: older seqs are dropped (already sent), the expected one is sent as the shared
/// pre-encoded frame, a jump means a gap and is filled from PostgreSQL first. So every activity reaches the
/// client exactly once, in seq order, whichever way it arrived.
/// </summary>
public sealed partial class StreamConnection(
    Guid tenantId, Guid conversationId, ActivityLog log, StreamOptions options, TimeProvider time, ILogger logger,
    IStreamFrameFormat? format = null)
{
    private readonly IStreamFrameFormat _format = format ?? NativeFrameFormat.Instance;
    private readonly Channel<FeedEvent> _queue = Channel.CreateBounded<FeedEvent>(new BoundedChannelOptions(options.SendQueueCapacity)
    {
        SingleReader = true,
        SingleWriter = false,
        FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full; we never block the feed
    });
    private volatile bool _overflowed;
    private volatile bool _clientGone;
    private long _nextExpected;
    private WebSocket _socket = null!;

    public long Delivered => _nextExpected - 1;

    /// <summary>Called by the feed for every event; never blocks. A full queue marks a slow consumer.</summary>
    public void Offer(FeedEvent e)
    {
        if (e.Kind == FeedEventKind.KeepAlive && _format.KeepAlive is null)
        {
            return; // this format has no keepalive frame: the WebSocket's own pongs keep the connection alive
        }
        if (e.Kind == FeedEventKind.Position && !e.Closed && e.Seq < Volatile.Read(ref _nextExpected))
        {
            // The client already has everything up to this position (the idle check's usual answer): nothing to repair,
            // so an idle socket's send loop is not woken every IdleCheckInterval. A stale read only lets one through.
            return;
        }
        if (!_queue.Writer.TryWrite(e) && !_overflowed)
        {
            _overflowed = true;
            _queue.Writer.TryComplete();
            StreamMetrics.SlowConsumerCloses.Add(1);
        }
    }

    /// <param name="socket">The client's socket, accepted once the feed was joined and the position read.</param>
    /// <param name="afterSeq">The client's watermark: everything after it is delivered.</param>
    /// <param name="ending">
    /// The socket's one cancellation source: cancelled on node shutdown (the client is told 1012 and reconnects elsewhere)
    /// or by the standing, and cancelled here when the client goes away. One source per socket instead of one per reason.
    /// </param>
    /// <param name="standing">When it ends the socket (expiry, revocation), its close code is used instead of 1012.</param>
    public async Task RunAsync(WebSocket socket, long afterSeq, bool closed, CancellationTokenSource ending, SocketStanding? standing = null)
    {
        _socket = socket;
        _nextExpected = afterSeq + 1;
        var ct = ending.Token;
        var receiving = ReceiveUntilClosedAsync(ending);
        try
        {
            if (!await CatchUpAsync(long.MaxValue, ct))
            {
                // Nothing to replay: an empty frame tells the client the position it is live from.
                await SendAsync(_format.Page([], _nextExpected - 1), ct);
            }
            if (closed)
            {
                await CloseAsync(CloseCodes.ConversationClosed, "conversation closed");
                return;
            }
            await foreach (var e in _queue.Reader.ReadAllAsync(ct))
            {
                if (_overflowed)
                {
                    break; // what is still queued is dropped: the client resumes from its watermark
                }
                switch (e.Kind)
                {
                    case FeedEventKind.Live when e.Seq < _nextExpected:
                        break; // already delivered by the replay or a repair
                    case FeedEventKind.Live when e.Seq == _nextExpected:
                        await SendAsync(_format.Live(e), ct);
                        _nextExpected++;
                        StreamMetrics.FanoutLatency.Record(time.GetUtcNow().ToUnixTimeMilliseconds() - e.CommittedAtUnixMs);
                        break;
                    case FeedEventKind.Live:
                        StreamMetrics.GapRepairs.Add(1);
                        await CatchUpAsync(e.Seq, ct);
                        break;
                    case FeedEventKind.Typing:
                        await SendAsync(_format.Typing(e), ct);
                        break;
                    case FeedEventKind.KeepAlive:
                        await SendAsync(_format.KeepAlive!, ct);
                        break;
                    case FeedEventKind.Position:
                        if (e.Seq >= _nextExpected)
                        {
                            StreamMetrics.GapRepairs.Add(1);
                            await CatchUpAsync(e.Seq, ct);
                        }
                        if (e.Closed)
                        {
                            await CloseAsync(CloseCodes.ConversationClosed, "conversation closed");
                            return;
                        }
                        break;
                }
            }
            if (_overflowed)
            {
                LogSlowConsumer(logger, conversationId, _nextExpected - 1);
                await CloseAsync(CloseCodes.SlowConsumer, "slow consumer: reconnect with your watermark");
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested && !_clientGone)
        {
            var (code, reason) = standing?.CloseFor(CloseCodes.ServiceRestart, "server restarting: reconnect with your watermark")
                ?? (CloseCodes.ServiceRestart, "server restarting: reconnect with your watermark");
            await CloseAsync(code, reason);
        }
        catch (OperationCanceledException) when (_clientGone)
        {
            if (_socket.State == WebSocketState.CloseReceived)
            {
                await CloseAsync(WebSocketCloseStatus.NormalClosure, "bye");
            }
        }
        catch (WebSocketException)
        {
            // The client vanished mid-send; nothing to tell it.
        }
        finally
        {
            if (_socket.State == WebSocketState.CloseSent)
            {
                // Give the client a moment to answer our close frame before the socket goes away.
                await Task.WhenAny(receiving, Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None));
            }
            if (!receiving.IsCompleted)
            {
                _socket.Abort(); // ends the receive
            }
            await receiving;
        }
    }

    private const int ReceiveBufferBytes = 128;

    /// <summary>Reads and sends <c>seq ≥ nextExpected</c> from PostgreSQL, page by page, up to <paramref name="untilSeq"/> or the end.</summary>
    /// <returns>Whether anything was sent.</returns>
    private async Task<bool> CatchUpAsync(long untilSeq, CancellationToken ct)
    {
        var sent = false;
        while (_nextExpected <= untilSeq)
        {
            var page = await ReadWithRetryAsync(ct);
            if (page.Count == 0)
            {
                break;
            }
            await SendAsync(_format.Page(page, page[^1].Seq!.Value), ct);
            sent = true;
            _nextExpected = page[^1].Seq!.Value + 1;
            if (page.Count < options.ReplayPageSize)
            {
                break;
            }
        }
        return sent;
    }

    /// <summary>A PostgreSQL hiccup must not drop the client: retry with backoff until it answers or the stream ends.</summary>
    private async Task<IReadOnlyList<Activity>> ReadWithRetryAsync(CancellationToken ct)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                return await log.ReadAsync(tenantId, conversationId, _nextExpected - 1, options.ReplayPageSize, ct);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !ct.IsCancellationRequested)
            {
                LogReplayRetry(logger, conversationId, ex.Message);
                await Task.Delay(delay, ct);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 2000));
            }
        }
    }

    private async Task SendAsync(byte[] frame, CancellationToken ct)
    {
        // A send that cannot complete (the client stopped reading and the socket buffers are full) aborts the socket.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.SendTimeout);
        await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
        StreamMetrics.FramesSent.Add(1);
    }

    private Task CloseAsync(int code, string reason) => CloseAsync((WebSocketCloseStatus)code, reason);

    private async Task CloseAsync(WebSocketCloseStatus status, string reason)
    {
        if (_socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }
        try
        {
            using var timeout = new CancellationTokenSource(options.SendTimeout);
            await _socket.CloseOutputAsync(status, reason, timeout.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            _socket.Abort();
        }
    }

    /// <summary>The client sends nothing we need (its keepalives are ignored); reading notices its close or disappearance.</summary>
    private async Task ReceiveUntilClosedAsync(CancellationTokenSource ending)
    {
        try
        {
            while (_socket.State is WebSocketState.Open or WebSocketState.CloseSent)
            {
                // A zero-byte read waits for the client's next message without holding a buffer (pings and pongs are
                // answered inside it); a pooled buffer is rented only to drop what arrived. No cancellation token:
                // cancelling a receive aborts the socket, which node shutdown must not do before its 1012 is sent; the
                // socket is aborted explicitly once the stream is over instead.
                var result = await _socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
                var buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferBytes);
                try
                {
                    result = await _socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        _clientGone = true;
        try
        {
            await ending.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slow consumer on conversation {ConversationId} closed at seq {Seq}")]
    private static partial void LogSlowConsumer(ILogger logger, Guid conversationId, long seq);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replay for conversation {ConversationId} failed ({Reason}); retrying")]
    private static partial void LogReplayRetry(ILogger logger, Guid conversationId, string reason);
}
