using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Npgsql;
using Platform.Tests.Integration.Conversations;
using Platform.Tests.Integration.Jobs;
using Platform.Tests.Integration.Realtime;

namespace Platform.Tests.Integration.Events;

/// <summary>Api, two Realtime nodes (presence refreshed fast, 2 s TTL) and a Worker running the events jobs, on one fresh database.</summary>
public sealed class EventsFixture : RealtimeFixture
{
    public JobWorkerHost Worker { get; private set; } = null!;

    protected override void Configure(Dictionary<string, string?> settings)
    {
        base.Configure(settings);
        settings["Platform:Presence:Ttl"] = "00:00:02";
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Worker = new JobWorkerHost(FastJobSettings.For(Database, Redis, "events-worker", concurrency: 4)).Start();
    }

    public override async Task DisposeAsync()
    {
        await Worker.DisposeAsync();
        await base.DisposeAsync();
    }

    public async Task<Guid> CreateConferenceAsync(string apiKey, object? extra = null)
    {
        var response = await Client(apiKey).PostAsJsonAsync("/v1/events/conferences", extra ?? new { name = "DevConf" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await Json(response)).GetProperty("id").GetGuid();
    }

    public async Task PutAttendeeAsync(string apiKey, Guid conference, string userId, object profile)
    {
        var response = await Client(apiKey).PutAsJsonAsync($"/v1/events/conferences/{conference}/attendees/{userId}", profile);
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    public async Task<long> ScalarAsync(string sql, params object[] args)
    {
        await using var conn = new NpgsqlConnection(Database);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var a in args)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        }
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }
}

/// <summary>A test client of <c>/v1/events/stream</c>: collects every JSON update and how the stream ended.</summary>
public sealed class ConferenceStreamClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly List<JsonElement> _updates = [];
    private readonly Lock _gate = new();
    private Task? _reader;

    public WebSocketCloseStatus? CloseStatus { get; private set; }
    public bool Ended { get; private set; }

    public IReadOnlyList<JsonElement> Updates
    {
        get
        {
            lock (_gate)
            {
                return [.. _updates];
            }
        }
    }

    public static async Task<ConferenceStreamClient> ConnectAsync(string url)
    {
        var client = new ConferenceStreamClient();
        await client._socket.ConnectAsync(new Uri(url), CancellationToken.None);
        client._reader = client.ReadAsync();
        return client;
    }

    private async Task ReadAsync()
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    CloseStatus = result.CloseStatus;
                    break;
                }
                message.Write(buffer, 0, result.Count);
                if (result.EndOfMessage)
                {
                    var update = JsonDocument.Parse(Encoding.UTF8.GetString(message.ToArray())).RootElement.Clone();
                    message.SetLength(0);
                    lock (_gate)
                    {
                        _updates.Add(update);
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

    /// <summary>Drops the connection without a close handshake, like a lost network.</summary>
    public void Abort() => _socket.Abort();

    public async ValueTask DisposeAsync()
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
        _socket.Dispose();
    }
}
