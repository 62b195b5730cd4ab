namespace Platform.Tests.Integration.Conversations;

/// <summary>A tight activity budget; a day-long window so the test never straddles a window boundary in practice.</summary>
public sealed class RateLimitedFixture : ConversationsFixture
{
    public const int ActivityLimit = 6;

    protected override void Configure(Dictionary<string, string?> settings)
    {
        base.Configure(settings);
        settings["Platform:RateLimits:ActivitiesPerWindow"] = ActivityLimit.ToString();
        settings["Platform:RateLimits:WindowSeconds"] = "86400";
    }
}

/// <summary>Per-tenant limits live in Redis, so two Api replicas spend one budget.</summary>
public sealed class RateLimitTests(RateLimitedFixture fx) : IClassFixture<RateLimitedFixture>
{
    [Fact]
    public async Task Two_api_instances_share_one_tenant_budget_and_answer_429_with_retry_after()
    {
        var w = await fx.CreateWorldAsync();
        var other = await fx.CreateWorldAsync("neighbour");
        await using var second = new ApiFactory(fx.Api.Settings);
        var path = $"/v1/conversations/{w.Conversation}/activities";
        var first = fx.Client(w.Tenant.ApiKey);
        var replica = ConversationsFixture.ClientOf(second, w.Tenant.ApiKey);

        for (var i = 0; i < RateLimitedFixture.ActivityLimit; i++)
        {
            var client = i % 2 == 0 ? first : replica;
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync(path, ConversationsFixture.Message($"m{i}"))).StatusCode);
        }

        foreach (var client in new[] { first, replica })
        {
            var refused = await client.PostAsJsonAsync(path, ConversationsFixture.Message("one too many"));
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            var retryAfter = refused.Headers.RetryAfter?.Delta;
            Assert.NotNull(retryAfter);
            Assert.InRange(retryAfter.Value.TotalSeconds, 1, 86400);
            Assert.Equal("urn:platform:problem:rate-limited", (await ConversationsFixture.Json(refused)).GetProperty("type").GetString());
        }

        // Refused posts stored nothing; reading is a separate budget; another tenant is unaffected.
        var page = await fx.ActivitiesAsync(w.Tenant.ApiKey, w.Conversation);
        Assert.Equal(RateLimitedFixture.ActivityLimit, page.GetProperty("activities").GetArrayLength());
        Assert.Equal(HttpStatusCode.Created,
            (await fx.Client(other.Tenant.ApiKey).PostAsJsonAsync($"/v1/conversations/{other.Conversation}/activities", ConversationsFixture.Message("free"))).StatusCode);
    }
}
