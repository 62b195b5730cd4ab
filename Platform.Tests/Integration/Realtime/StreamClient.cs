using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Platform.Tests.Integration.Realtime;

/// <summary>
/// A test's WebSocket client of <c>/v1/stream</c>: collects every activity it receives and how the stream ended.
/// It can pause reading (and uses a small socket receive buffer) to play a slow consumer.
/// </summary>
public sealed class StreamClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly List<JsonElement> _activities = [];
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _resume = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _reader;

    public bool Paused { get; private init; }
    public WebSocketCloseStatus? CloseStatus { get; private set; }
    public string? CloseReason { get; private set; }
    public bool Ended { get; private set; }
    public long LastWatermark { get; private set; }
    public int Frames { get; private set; }
    public long BytesReceived { get; private set; }
    public WebSocketState SocketState => _socket.State;
    public string ReaderState { get; private set; } = "not started";

    public IReadOnlyList<long> Seqs
    {
        get
        {
            lock (_gate)
            {
                return [.. _activities.Where(a => a.GetProperty("seq").ValueKind == JsonValueKind.Number).Select(a => a.GetProperty("seq").GetInt64())];
            }
        }
    }

    public IReadOnlyList<JsonElement> Activities
    {
        get
        {
            lock (_gate)
            {
                return [.. _activities];
            }
        }
    }

    public static async Task<StreamClient> ConnectAsync(Uri node, string token, long? watermark, bool paused = false, string? conversationId = null)
    {
        var query = $"token={Uri.EscapeDataString(token)}" + (watermark is { } w ? $"&watermark={w}" : "") +
                    (conversationId is null ? "" : $"&conversationId={conversationId}");
        var uri = new UriBuilder(node) { Scheme = node.Scheme == "https" ? "wss" : "ws", Path = "/v1/stream", Query = query }.Uri;
        var client = new StreamClient { Paused = paused };
        using var handler = new SocketsHttpHandler
        {
            // A small kernel receive buffer makes a paused client fill up after little data.
            ConnectCallback = async (ctx, ct) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                if (paused)
                {
                    socket.ReceiveBufferSize = 4096;
                }
                await socket.ConnectAsync(ctx.DnsEndPoint, ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        await client._socket.ConnectAsync(uri, new HttpMessageInvoker(handler, disposeHandler: false), CancellationToken.None);
        if (!paused)
        {
            client._resume.SetResult();
        }
        client._reader = client.ReadAsync();
        return client;
    }

    /// <summary>Starts reading after a pause.</summary>
    public void Resume() => _resume.TrySetResult();

    private async Task ReadAsync()
    {
        ReaderState = "waiting to resume";
        await _resume.Task;
        ReaderState = "receiving";
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                BytesReceived += result.Count;
                ReaderState = $"received {result.MessageType} {result.Count} end={result.EndOfMessage}";
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    CloseStatus = result.CloseStatus;
                    CloseReason = result.CloseStatusDescription;
                    break;
                }
                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }
                var frame = JsonDocument.Parse(message.ToArray()).RootElement.Clone();
                message.SetLength(0);
                lock (_gate)
                {
                    Frames++;
                    _activities.AddRange(frame.GetProperty("activities").EnumerateArray());
                    if (frame.TryGetProperty("watermark", out var w) && w.ValueKind == JsonValueKind.Number)
                    {
                        LastWatermark = w.GetInt64();
                    }
                }
            }
        }
        catch (WebSocketException)
        {
        }
        finally
        {
            Ended = true;
        }
    }

    public Task WaitForSeqAsync(long seq, TimeSpan? timeout = null) =>
        Eventually.TrueAsync(() => Task.FromResult(Seqs.Count > 0 && Seqs[^1] >= seq), timeout ?? TimeSpan.FromSeconds(30),
            $"client to receive seq {seq} (has {Seqs.Count}, last {(Seqs.Count > 0 ? Seqs[^1] : 0)})");

    public Task WaitForEndAsync(TimeSpan? timeout = null) =>
        Eventually.TrueAsync(() => Task.FromResult(Ended), timeout ?? TimeSpan.FromSeconds(30), "the stream to end");

    /// <summary>Closes from the client side, like a network drop followed by a polite goodbye.</summary>
    public async Task DisconnectAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
            }
            catch (WebSocketException)
            {
            }
        }
        if (_reader is not null)
        {
            await Task.WhenAny(_reader, Task.Delay(TimeSpan.FromSeconds(5)));
        }
        _socket.Abort();
    }

    public async ValueTask DisposeAsync()
    {
        _resume.TrySetResult();
        await DisconnectAsync();
        _socket.Dispose();
    }

    public static string Describe(IReadOnlyList<long> seqs) =>
        seqs.Count == 0 ? "nothing" : $"{seqs.Count} activities, {seqs[0]}..{seqs[^1]}";

    public static void AssertExactly(IReadOnlyList<long> seqs, long from, long to)
    {
        var expected = Enumerable.Range(0, (int)(to - from + 1)).Select(i => from + i).ToList();
        Assert.True(expected.SequenceEqual(seqs), $"expected exactly {from}..{to} in order, got {Describe(seqs)}; " +
            $"duplicates: {string.Join(",", seqs.GroupBy(s => s).Where(g => g.Count() > 1).Select(g => g.Key).Take(10))}; " +
            $"missing: {string.Join(",", expected.Except(seqs).Take(10))}");
    }

    public static string Text(string s) => Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(s));
}
