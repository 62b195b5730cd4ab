using System.Net.WebSockets;
using System.Text.Json;

namespace Platform.Tests.Infrastructure;

/// <summary>
/// The one WebSocket test client: reads JSON text messages until the server closes, keeps every message and how the
/// stream ended. The stream clients of conversations, user notifications and conferences are views over it.
/// </summary>
public class JsonSocketClient : IAsyncDisposable
{
    private readonly List<JsonElement> _messages = [];
    private Task? _reader;

    protected ClientWebSocket Socket { get; } = new();

    /// <summary>Held while a message is recorded; a subclass's <see cref="OnMessage"/> runs under it.</summary>
    protected Lock Gate { get; } = new();

    public WebSocketCloseStatus? CloseStatus { get; private set; }
    public string? CloseReason { get; private set; }
    public bool Ended { get; private set; }
    public long BytesReceived { get; private set; }
    public WebSocketState SocketState => Socket.State;
    public string ReaderState { get; private set; } = "not started";

    public IReadOnlyList<JsonElement> Messages
    {
        get
        {
            lock (Gate)
            {
                return [.. _messages];
            }
        }
    }

    /// <summary>Starts reading once <paramref name="startWhen"/> completes (a paused client plays a slow consumer).</summary>
    protected void StartReading(Task? startWhen = null) => _reader = ReadAsync(startWhen ?? Task.CompletedTask);

    /// <summary>Called for each message, under <see cref="Gate"/>.</summary>
    protected virtual void OnMessage(JsonElement message)
    {
    }

    private async Task ReadAsync(Task startWhen)
    {
        ReaderState = "waiting to start";
        await startWhen;
        ReaderState = "receiving";
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (true)
            {
                var result = await Socket.ReceiveAsync(buffer, CancellationToken.None);
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
                var parsed = JsonDocument.Parse(message.ToArray()).RootElement.Clone();
                message.SetLength(0);
                lock (Gate)
                {
                    _messages.Add(parsed);
                    OnMessage(parsed);
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

    public Task WaitForEndAsync(TimeSpan? timeout = null) =>
        Eventually.TrueAsync(() => Task.FromResult(Ended), timeout ?? TimeSpan.FromSeconds(30), "the stream to end");

    /// <summary>Drops the connection without a close handshake, like a lost network.</summary>
    public void Abort() => Socket.Abort();

    /// <summary>Closes from the client side with a polite goodbye, waits briefly for the server's answer, then drops the socket.</summary>
    public async Task DisconnectAsync()
    {
        if (Socket.State == WebSocketState.Open)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
        }
        if (_reader is not null)
        {
            await Task.WhenAny(_reader, Task.Delay(TimeSpan.FromSeconds(5)));
        }
        Socket.Abort();
    }

    public virtual async ValueTask DisposeAsync()
    {
        await DisconnectAsync();
        Socket.Dispose();
        GC.SuppressFinalize(this);
    }
}
