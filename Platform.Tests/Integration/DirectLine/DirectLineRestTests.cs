using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Platform.Core.Security;
using Platform.Tests.Integration.Conversations;

namespace Platform.Tests.Integration.DirectLine;

/// <summary>The Direct Line REST surface in Direct Line's own terms: shapes, status codes, errors, CORS.</summary>
public sealed class DirectLineRestTests(ConversationsFixture fx) : IClassFixture<ConversationsFixture>
{
    private static async Task<JsonElement> Json(HttpResponseMessage r) => await ConversationsFixture.Json(r);

    private static async Task AssertError(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        Assert.Equal(status, response.StatusCode);
        var error = (await Json(response)).GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task Token_conversation_and_activities_have_the_direct_line_shapes()
    {
        var world = await fx.CreateWorldAsync("dlshapes");
        var generated = await Json(await fx.Client(world.Channel.Secret).PostAsJsonAsync("/v3/directline/tokens/generate", new { user = new { id = "ann" } }));
        Assert.Equal(1800, generated.GetProperty("expires_in").GetInt32());
        var token = generated.GetProperty("token").GetString()!;
        var conversationId = generated.GetProperty("conversationId").GetString()!;
        var user = await new ClientTokens(new ConfigurationBuilder().AddInMemoryCollection(fx.Api.Settings).Build()).ValidateAsync(token);
        Assert.Equal("ann", user.Claims!.UserId);

        var client = fx.Client(token);
        var started = await client.PostAsync("/v3/directline/conversations", null);
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        var conversation = await Json(started);
        Assert.Equal(conversationId, conversation.GetProperty("conversationId").GetString());
        Assert.StartsWith("ws://", conversation.GetProperty("streamUrl").GetString());
        Assert.Contains($"/v3/directline/conversations/{conversationId}/stream?t=", conversation.GetProperty("streamUrl").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v3/directline/conversations", null)).StatusCode);

        var body = ConversationsFixture.Body("""{"type":"message","text":"hi","from":{"id":"mallory"},"channelData":{"clientActivityID":"x1","n":[1,2]}}""");
        var posted = await Json(await client.PostAsync($"/v3/directline/conversations/{conversationId}/activities", body));
        var again = await Json(await client.PostAsync($"/v3/directline/conversations/{conversationId}/activities",
            ConversationsFixture.Body("""{"type":"message","text":"hi","channelData":{"clientActivityID":"x1"}}""")));
        Assert.Equal(posted.GetProperty("id").GetString(), again.GetProperty("id").GetString()); // a retried post stores nothing

        var set = await Json(await client.GetAsync($"/v3/directline/conversations/{conversationId}/activities?watermark="));
        Assert.Equal("1", set.GetProperty("watermark").GetString());
        var activity = Assert.Single(set.GetProperty("activities").EnumerateArray());
        Assert.Equal(posted.GetProperty("id").GetString(), activity.GetProperty("id").GetString());
        Assert.Equal("ann", activity.GetProperty("from").GetProperty("id").GetString()); // a token speaks as its user
        Assert.Equal(conversationId, activity.GetProperty("conversation").GetProperty("id").GetString());
        Assert.Equal("directline", activity.GetProperty("channelId").GetString());
        Assert.Equal("x1", activity.GetProperty("channelData").GetProperty("clientActivityID").GetString());
        Assert.Equal(2, activity.GetProperty("channelData").GetProperty("n")[1].GetInt32());
        Assert.Equal(1, activity.GetProperty("channelData").GetProperty("webchat:sequence-id").GetInt64());
        var empty = await Json(await client.GetAsync($"/v3/directline/conversations/{conversationId}/activities?watermark=1"));
        Assert.Empty(empty.GetProperty("activities").EnumerateArray());
        Assert.Equal("1", empty.GetProperty("watermark").GetString());

        var reconnect = await Json(await client.GetAsync($"/v3/directline/conversations/{conversationId}?watermark=1"));
        Assert.EndsWith("&watermark=1", reconnect.GetProperty("streamUrl").GetString());
        Assert.NotEqual(token, reconnect.GetProperty("token").GetString());

        var refreshed = await Json(await client.PostAsync("/v3/directline/tokens/refresh", null));
        Assert.NotEqual(token, refreshed.GetProperty("token").GetString());
        Assert.Equal(conversationId, refreshed.GetProperty("conversationId").GetString());
    }

    [Fact]
    public async Task Errors_are_direct_line_errors()
    {
        var world = await fx.CreateWorldAsync("dlerrors");
        await AssertError(await fx.Client().PostAsync("/v3/directline/conversations", null), HttpStatusCode.Unauthorized, "Unauthorized");
        await AssertError(await fx.Client("cs_nope").PostAsync("/v3/directline/conversations", null), HttpStatusCode.Unauthorized, "Unauthorized");

        // Expired: minted by a clock two hours behind.
        var config = new ConfigurationBuilder().AddInMemoryCollection(fx.Api.Settings).Build();
        var expired = new ClientTokens(config, new PastTime(TimeSpan.FromHours(2)))
            .Issue(world.Tenant.Id, "ann", world.Conversation, TimeSpan.FromMinutes(30), extraClaims: new Dictionary<string, object> { ["user"] = "ann" });
        await AssertError(await fx.Client(expired).PostAsync("/v3/directline/tokens/refresh", null), HttpStatusCode.Forbidden, "TokenExpired");
        await AssertError(await fx.Client(expired).GetAsync($"/v3/directline/conversations/{world.Conversation}?watermark="),
            HttpStatusCode.Forbidden, "TokenExpired");

        var secret = fx.Client(world.Channel.Secret);
        await AssertError(await secret.GetAsync($"/v3/directline/conversations/{Guid.NewGuid()}?watermark="), HttpStatusCode.NotFound, "BadArgument");
        await AssertError(await secret.GetAsync($"/v3/directline/conversations/{Guid.NewGuid()}/activities"), HttpStatusCode.NotFound, "BadArgument");
        await AssertError(await secret.PostAsync($"/v3/directline/conversations/{world.Conversation}/activities",
            ConversationsFixture.Body("""{"type":"message","text":5,"from":{"id":"a"}}""")), HttpStatusCode.BadRequest, "BadArgument");
        await AssertError(await secret.PostAsync("/v3/directline/tokens/refresh", null), HttpStatusCode.Forbidden, "BadArgument");
        // A token of one conversation does not reach another.
        var token = await fx.TokenAsync(world.Channel.Secret, world.Conversation);
        var other = await fx.StartConversationAsync(world.Tenant.ApiKey, world.Channel.Id);
        await AssertError(await fx.Client(token).GetAsync($"/v3/directline/conversations/{other}/activities"), HttpStatusCode.NotFound, "BadArgument");
    }

    [Fact]
    public async Task Cors_allows_the_channels_origins_and_the_direct_line_headers()
    {
        var world = await fx.CreateWorldAsync("dlcors");
        var preflight = new HttpRequestMessage(HttpMethod.Options, "/v3/directline/conversations");
        preflight.Headers.Add("Origin", "https://shop.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "authorization,x-ms-bot-agent,content-type");
        var answer = await fx.Client().SendAsync(preflight);
        Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode);
        Assert.Equal("https://shop.example", answer.Headers.GetValues("Access-Control-Allow-Origin").Single());
        var allowed = answer.Headers.GetValues("Access-Control-Allow-Headers").Single();
        Assert.Contains("Authorization", allowed);
        Assert.Contains("x-ms-bot-agent", allowed);

        // No origins configured: any page may call. Configured: only those.
        Assert.Equal("https://shop.example", (await FromOrigin(world, "https://shop.example")).Headers.GetValues("Access-Control-Allow-Origin").Single());
        await using (var conn = new Npgsql.NpgsqlConnection(fx.Database))
        {
            await conn.OpenAsync();
            await using var cmd = new Npgsql.NpgsqlCommand("UPDATE core.channels SET allowed_origins = '{https://shop.example}' WHERE id = $1", conn);
            cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = world.Channel.Id });
            await cmd.ExecuteNonQueryAsync();
        }
        var ok = await FromOrigin(world, "https://shop.example");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var refused = await FromOrigin(world, "https://evil.example");
        await AssertError(refused, HttpStatusCode.Forbidden, "Forbidden");
        Assert.False(refused.Headers.Contains("Access-Control-Allow-Origin"));
    }

    private Task<HttpResponseMessage> FromOrigin(World world, string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/v3/directline/conversations/{world.Conversation}/activities?watermark=");
        request.Headers.Add("Origin", origin);
        return fx.Client(world.Channel.Secret).SendAsync(request);
    }

    private sealed class PastTime(TimeSpan behind) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() - behind;
    }
}

public sealed class DirectLineRateLimitTests(RateLimitedFixture fx) : IClassFixture<RateLimitedFixture>
{
    [Fact]
    public async Task Over_the_tenant_budget_is_429_with_retry_after_in_the_direct_line_shape()
    {
        var world = await fx.CreateWorldAsync("dlrate");
        var client = fx.Client(world.Channel.Secret);
        var path = $"/v3/directline/conversations/{world.Conversation}/activities";
        HttpResponseMessage last;
        var posted = 0;
        do
        {
            last = await client.PostAsync(path, ConversationsFixture.Body($$$"""{"type":"message","text":"m{{{posted}}}","from":{"id":"a"}}"""));
            posted++;
        }
        while (last.StatusCode == HttpStatusCode.OK && posted <= RateLimitedFixture.ActivityLimit + 1);
        Assert.Equal(HttpStatusCode.TooManyRequests, last.StatusCode);
        Assert.NotNull(last.Headers.RetryAfter?.Delta);
        Assert.Equal("TooManyRequests", (await ConversationsFixture.Json(last)).GetProperty("error").GetProperty("code").GetString());
    }
}
