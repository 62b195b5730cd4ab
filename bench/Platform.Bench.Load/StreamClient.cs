using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;

namespace Platform.Bench.Load;

/// <summary>
/// One WebSocket client of /v1/stream: records (seq, arrival timestamp) of every activity it receives, in order.
/// Only its own receive loop touches Receipts, so no locking; read them after the client stopped or the run drained.
/// </summary>
public sealed class StreamClient(int index, int conversation, string streamUrl)
{
    public readonly int Index = index;
    public readonly int Conversation = conversation;
    public readonly string StreamUrl = streamUrl;
    public readonly int Port = new Uri(streamUrl).Port;
    public readonly List<(long Seq, long Ticks)> Receipts = new();
    public long LastWatermark;
    public long CatchUpTarget = long.MaxValue;
    public long CaughtUpAt;
    public string? Error;
    public WebSocketCloseStatus? CloseStatus;
    public bool KeepReceipts = true;

    private ClientWebSocket? _ws;
    private Task? _loop;
    private TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _caughtUp = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task FirstFrame => _first.Task;
    public Task CaughtUp => _caughtUp.Task;

    /// <summary>Connects (with ?watermark= when given) and starts receiving; completes when the socket is open.</summary>
    public async Task ConnectAsync(long? watermark, CancellationToken ct)
    {
        _first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ws = new ClientWebSocket();
        ws.Options.KeepAliveInterval = TimeSpan.FromSeconds(30);
        var url = watermark is { } w ? $"{StreamUrl}&watermark={w}" : StreamUrl;
        try
        {
            await ws.ConnectAsync(new Uri(url), ct);
        }
        catch (Exception e)
        {
            Error = e.GetBaseException().Message;
            ws.Dispose();
            _first.TrySetException(e);
            throw;
        }
        _ws = ws;
        _loop = Task.Run(() => ReceiveLoopAsync(ws));
    }

    private async Task ReceiveLoopAsync(ClientWebSocket ws)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(8192);
        var message = new ArrayBufferWriter<byte>(8192);
        try
        {
            while (ws.State == WebSocketState.Open)
            {
                message.ResetWrittenCount();
                ValueWebSocketReceiveResult r;
                do
                {
                    r = await ws.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                    if (r.MessageType == WebSocketMessageType.Close) { CloseStatus = ws.CloseStatus; return; }
                    message.Write(buffer.AsSpan(0, r.Count));
                } while (!r.EndOfMessage);
                var now = Clock.Now;
                Parse(message.WrittenSpan, now);
                _first.TrySetResult();
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // aborted by us, or the server went away: Error stays null when we closed it ourselves
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _first.TrySetException(new InvalidOperationException("closed before the first frame"));
        }
    }

    private void Parse(ReadOnlySpan<byte> json, long now)
    {
        var reader = new Utf8JsonReader(json);
        var depth = 0;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject or JsonTokenType.StartArray: depth++; break;
                case JsonTokenType.EndObject or JsonTokenType.EndArray: depth--; break;
                case JsonTokenType.PropertyName when depth == 3 && reader.ValueTextEquals("seq"u8):
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Number && KeepReceipts) Receipts.Add((reader.GetInt64(), now));
                    break;
                case JsonTokenType.PropertyName when depth == 3:
                    reader.Read();
                    if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) reader.Skip();
                    break;
                case JsonTokenType.PropertyName when depth == 1 && reader.ValueTextEquals("watermark"u8):
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Number) LastWatermark = reader.GetInt64();
                    break;
            }
        }
        if (LastWatermark >= CatchUpTarget && _caughtUp.TrySetResult()) CaughtUpAt = now;
    }

    /// <summary>Drops the connection without a close handshake (a client losing its network).</summary>
    public async Task AbortAsync()
    {
        var ws = _ws;
        if (ws == null) return;
        ws.Abort();
        if (_loop != null) await _loop;
        ws.Dispose();
        _ws = null;
    }

    public async Task CloseAsync()
    {
        var ws = _ws;
        if (ws == null) return;
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            if (ws.State == WebSocketState.Open) await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException) { }
        ws.Abort();
        if (_loop != null) await _loop;
        ws.Dispose();
        _ws = null;
    }

    /// <summary>Connects many clients with at most `parallel` handshakes in flight; returns how many failed.</summary>
    public static async Task<int> ConnectAllAsync(IEnumerable<StreamClient> clients, int parallel, long? watermark, TimeSpan firstFrameTimeout)
    {
        var failed = 0;
        await Parallel.ForEachAsync(clients, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (c, _) =>
        {
            try
            {
                using var cts = new CancellationTokenSource(firstFrameTimeout);
                await c.ConnectAsync(watermark, cts.Token);
                await c.FirstFrame.WaitAsync(cts.Token);
            }
            catch (Exception e)
            {
                c.Error ??= e.GetBaseException().Message;
                Interlocked.Increment(ref failed);
            }
        });
        return failed;
    }
}
