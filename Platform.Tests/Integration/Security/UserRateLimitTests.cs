using Platform.Tests.Integration.Conversations;

namespace Platform.Tests.Integration.Security;

/// <summary>A tight per-user budget on its own Redis (so the test can stop it) and a roomy tenant budget; a day-long window.</summary>
public sealed class UserRateLimitFixture : ConversationsFixture
{
    public const int UserLimit = 5;

    protected override bool OwnsRedis => true;

    protected override void Configure(Dictionary<string, string?> settings)
    {
        base.Configure(settings);
        settings["ConnectionStrings:redis"] = OwnRedis.ConnectionString + ",connectTimeout=500,syncTimeout=1000,asyncTimeout=1000";
        settings["Platform:RateLimits:UserRequestsPerWindow"] = UserLimit.ToString();
        settings["Platform:RateLimits:UserActivitiesPerWindow"] = UserLimit.ToString();
        settings["Platform:RateLimits:WindowSeconds"] = "86400";
    }
}

/// <summary>
/// End-user credentials spend a budget of their own per (tenant, user) besides the tenant's: one user's script is
/// refused while other users and the tenant's key go on; with Redis down the limits are counted in the process.
/// </summary>
public sealed class UserRateLimitTests(UserRateLimitFixture fx) : IClassFixture<UserRateLimitFixture>
{
    [Fact]
    public async Task One_user_is_limited_per_tenant_and_user_and_the_limit_holds_when_redis_is_down()
    {
        var w = await fx.CreateWorldAsync("user-limits");
        var alice = await UserTokenAsync(w.Tenant.ApiKey, "alice");
        var bob = await UserTokenAsync(w.Tenant.ApiKey, "bob");
        var aliceInConversation = await fx.TokenAsync(w.Tenant.ApiKey, w.Conversation, "alice");

        for (var i = 0; i < UserRateLimitFixture.UserLimit; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await fx.Client(alice).GetAsync("/v1/me/notifications")).StatusCode);
        }
        var refused = await fx.Client(alice).GetAsync("/v1/me/notifications");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var problem = await ConversationsFixture.Json(refused);
        Assert.Equal("urn:platform:problem:rate-limited", problem.GetProperty("type").GetString());
        Assert.StartsWith("This user", problem.GetProperty("detail").GetString());
        Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 86400);

        // The budget is per (tenant, user) and per kind of call: another user, and the tenant's key, go on.
        Assert.Equal(HttpStatusCode.OK, (await fx.Client(bob).GetAsync("/v1/me/notifications")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fx.Client(w.Tenant.ApiKey).GetAsync($"/v1/conversations/{w.Conversation}")).StatusCode);
        // A conversation token of the same user shares the user's request budget.
        Assert.Equal(HttpStatusCode.TooManyRequests, (await fx.Client(aliceInConversation).GetAsync($"/v1/conversations/{w.Conversation}")).StatusCode);

        // Redis down: the limit is counted in this process, not dropped.
        var carol = await UserTokenAsync(w.Tenant.ApiKey, "carol");
        var dave = await UserTokenAsync(w.Tenant.ApiKey, "dave");
        await fx.OwnRedis.StopAsync();
        try
        {
            for (var i = 0; i < UserRateLimitFixture.UserLimit; i++)
            {
                Assert.Equal(HttpStatusCode.OK, (await fx.Client(carol).GetAsync("/v1/me/notifications")).StatusCode);
            }
            var local = await fx.Client(carol).GetAsync("/v1/me/notifications");
            Assert.Equal(HttpStatusCode.TooManyRequests, local.StatusCode);
            Assert.StartsWith("This user", (await ConversationsFixture.Json(local)).GetProperty("detail").GetString());
            Assert.Equal(HttpStatusCode.OK, (await fx.Client(dave).GetAsync("/v1/me/notifications")).StatusCode);
        }
        finally
        {
            await fx.OwnRedis.StartAgainAsync();
        }
    }

    private async Task<string> UserTokenAsync(string apiKey, string user)
    {
        var response = await fx.Client(apiKey).PostAsJsonAsync($"/v1/users/{user}/tokens", new { roles = new[] { "member" } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await ConversationsFixture.Json(response)).GetProperty("token").GetString()!;
    }
}
