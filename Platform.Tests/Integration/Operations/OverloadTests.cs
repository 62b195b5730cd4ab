using System.Diagnostics;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Tests.Integration.Conversations;

namespace Platform.Tests.Integration.Operations;

/// <summary>
/// A retry storm against one Api process: when its connection pool is used up, or it already works on as many
/// requests as it takes, further requests are answered 503 with <c>Retry-After</c> at once (not a 500, not a hang),
/// nothing of them is stored, what was acknowledged stays stored once, and the Api serves again afterwards.
/// </summary>
public sealed class OverloadTests
{
    [Fact]
    public async Task A_used_up_pool_answers_503_with_retry_after_quickly_and_the_retries_store_each_post_once()
    {
        var db = await TestEnvironment.CreateDatabaseAsync("overloadpool");
        var settings = TestSettings.For(db, await TestEnvironment.RedisAsync());
        settings["Platform:Overload:MaxPoolSize"] = "6";
        settings["Platform:Overload:ConnectionTimeoutSeconds"] = "1";
        await using var api = new ApiFactory(settings);
        using var http = api.CreateClient();
        var (apiKey, conversation) = await ConversationAsync(http);
        for (var i = 0; i < 3; i++)
        {
            using var ok = await PostAsync(http, apiKey, conversation, $"before-{i}");
            Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        }

        // Take every connection the Api's pool will give (as requests stuck on a slow database would).
        var pool = api.Services.GetRequiredService<NpgsqlDataSource>();
        var held = new List<NpgsqlConnection>();
        try
        {
            while (true)
            {
                held.Add(await pool.OpenConnectionAsync());
            }
        }
        catch (NpgsqlException)
        {
            // the pool is used up
        }
        Assert.InRange(held.Count, 1, 6); // bounded by Platform:Overload:MaxPoolSize, not the connection string's 100

        var refused = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var started = Stopwatch.GetTimestamp();
            using var busy = await PostAsync(http, apiKey, conversation, $"storm-{i}");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, busy.StatusCode);
            Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(10), "answered within the connection timeout, not after retries");
            Assert.Equal("2", busy.Headers.GetValues("Retry-After").Single());
            Assert.Equal("application/problem+json", busy.Content.Headers.ContentType?.MediaType);
            var problem = await ConversationsFixture.Json(busy);
            Assert.Equal("urn:platform:problem:unavailable", problem.GetProperty("type").GetString());
            refused.Add($"storm-{i}");
        }
        Assert.Equal(0L, await CountAsync(db, "SELECT count(*) FROM core.activities WHERE client_activity_id LIKE 'storm-%'"));

        foreach (var c in held)
        {
            await c.DisposeAsync();
        }

        // After the storm: the retries (same clientActivityId) are stored, each once, and nothing acknowledged is lost.
        foreach (var id in refused)
        {
            using var retried = await PostAsync(http, apiKey, conversation, id);
            Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        }
        Assert.Equal(6L, await CountAsync(db, "SELECT count(DISTINCT client_activity_id) FROM core.activities WHERE client_activity_id LIKE 'before-%' OR client_activity_id LIKE 'storm-%'"));
        Assert.Equal(6L, await CountAsync(db, "SELECT count(*) FROM core.activities WHERE client_activity_id LIKE 'before-%' OR client_activity_id LIKE 'storm-%'"));
    }

    [Fact]
    public async Task Requests_beyond_the_concurrency_limit_queue_briefly_then_get_503_while_health_still_answers()
    {
        var db = await TestEnvironment.CreateDatabaseAsync("overloadlimit");
        var settings = TestSettings.For(db, await TestEnvironment.RedisAsync());
        settings["Platform:Overload:MaxConcurrentRequests"] = "2";
        settings["Platform:Overload:QueueLimit"] = "1";
        await using var api = new ApiFactory(settings);
        using var http = api.CreateClient();
        var (apiKey, slow) = await ConversationAsync(http);
        var free = (await CallAsync(http, apiKey, "/v1/conversations", new { channelId = await ChannelOfAsync(db, slow) })).GetProperty("id").GetGuid();

        // Two posts held inside the Api, waiting on the conversation's row: they take both places.
        await using var holder = new NpgsqlConnection(db);
        await holder.OpenAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("SELECT 1 FROM core.conversations WHERE id = $1 FOR UPDATE", holder, hold))
        {
            lockRow.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = slow });
            await lockRow.ExecuteNonQueryAsync();
        }
        var first = PostAsync(http, apiKey, slow, "held-1");
        var second = PostAsync(http, apiKey, slow, "held-2");
        await Eventually.TrueAsync(async () => await CountAsync(db, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") == 2,
            because: "both posts wait on the conversation's row");

        // The third waits in the queue; the fourth finds the queue full and is refused at once.
        var queued = PostAsync(http, apiKey, free, "queued-1");
        await Task.Delay(200);
        using (var refused = await PostAsync(http, apiKey, free, "refused-1"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal("2", refused.Headers.GetValues("Retry-After").Single());
            Assert.Equal("urn:platform:problem:unavailable", (await ConversationsFixture.Json(refused)).GetProperty("type").GetString());
        }
        Assert.False(queued.IsCompleted, "the queued post waits for a place while both are taken");
        // Health probes are never held back.
        using (var health = await http.GetAsync("/health"))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        await hold.RollbackAsync();
        foreach (var post in new[] { first, second, queued })
        {
            using var done = await post;
            Assert.Equal(HttpStatusCode.Created, done.StatusCode);
        }
        using (var retried = await PostAsync(http, apiKey, free, "refused-1"))
        {
            Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        }
        Assert.Equal(4L, await CountAsync(db, "SELECT count(*) FROM core.activities WHERE client_activity_id IN ('held-1', 'held-2', 'queued-1', 'refused-1')"));
    }

    private static async Task<(string ApiKey, Guid Conversation)> ConversationAsync(HttpClient http)
    {
        var apiKey = (await CallAsync(http, TestSettings.OperatorKey, "/v1/tenants", new { name = "storm" })).GetProperty("apiKey").GetString()!;
        var channel = (await CallAsync(http, apiKey, "/v1/channels", new { name = "web" })).GetProperty("id").GetString()!;
        var conversation = (await CallAsync(http, apiKey, "/v1/conversations", new { channelId = channel })).GetProperty("id").GetGuid();
        return (apiKey, conversation);
    }

    private static async Task<Guid> ChannelOfAsync(string db, Guid conversation)
    {
        await using var conn = new NpgsqlConnection(db);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT channel_id FROM core.conversations WHERE id = $1", conn);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conversation });
        return (Guid)(await cmd.ExecuteScalarAsync())!;
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient http, string apiKey, Guid conversation, string clientActivityId)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/conversations/{conversation}/activities")
        {
            Content = JsonContent.Create(ConversationsFixture.Message("storm " + clientActivityId, clientActivityId: clientActivityId)),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return http.SendAsync(request);
    }

    private static async Task<long> CountAsync(string db, string sql)
    {
        await using var conn = new NpgsqlConnection(db);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private static async Task<System.Text.Json.JsonElement> CallAsync(HttpClient http, string bearer, string path, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await ConversationsFixture.Json(response);
    }
}
