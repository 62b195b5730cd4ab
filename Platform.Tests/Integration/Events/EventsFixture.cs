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

/// <summary>A test client of <c>/v1/events/stream</c>: every JSON update and how the stream ended.</summary>
public sealed class ConferenceStreamClient : JsonSocketClient
{
    public IReadOnlyList<JsonElement> Updates => Messages;

    public static async Task<ConferenceStreamClient> ConnectAsync(string url)
    {
        var client = new ConferenceStreamClient();
        await client.Socket.ConnectAsync(new Uri(url), CancellationToken.None);
        client.StartReading();
        return client;
    }
}
