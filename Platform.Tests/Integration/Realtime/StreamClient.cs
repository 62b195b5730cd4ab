using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Platform.Tests.Integration.Realtime;

/// <summary>
/// A test's WebSocket client of <c>/v1/stream</c>: every activity it receives and how the stream ended.
/// It can pause reading (and uses a small socket receive buffer) to play a slow consumer.
/// </summary>
public sealed class StreamClient : JsonSocketClient
{
    private readonly List<JsonElement> _activities = [];
    private readonly TaskCompletionSource _resume = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool Paused { get; private init; }
    public long LastWatermark { get; private set; }
    public int Frames { get; private set; }

    public IReadOnlyList<long> Seqs
    {
        get
        {
            lock (Gate)
            {
                return [.. _activities.Where(a => a.GetProperty("seq").ValueKind == JsonValueKind.Number).Select(a => a.GetProperty("seq").GetInt64())];
            }
        }
    }

    public IReadOnlyList<JsonElement> Activities
    {
        get
        {
            lock (Gate)
            {
                return [.. _activities];
            }
        }
    }

    protected override void OnMessage(JsonElement frame)
    {
        Frames++;
        _activities.AddRange(frame.GetProperty("activities").EnumerateArray());
        if (frame.TryGetProperty("watermark", out var w) && w.ValueKind == JsonValueKind.Number)
        {
            LastWatermark = w.GetInt64();
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
        await client.Socket.ConnectAsync(uri, new HttpMessageInvoker(handler, disposeHandler: false), CancellationToken.None);
        if (!paused)
        {
            client._resume.SetResult();
        }
        client.StartReading(client._resume.Task);
        return client;
    }

    /// <summary>Starts reading after a pause.</summary>
    public void Resume() => _resume.TrySetResult();

    public Task WaitForSeqAsync(long seq, TimeSpan? timeout = null) =>
        Eventually.TrueAsync(() => Task.FromResult(Seqs.Count > 0 && Seqs[^1] >= seq), timeout ?? TimeSpan.FromSeconds(30),
            $"client to receive seq {seq} (has {Seqs.Count}, last {(Seqs.Count > 0 ? Seqs[^1] : 0)})");

    public override async ValueTask DisposeAsync()
    {
        _resume.TrySetResult();
        await base.DisposeAsync();
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
