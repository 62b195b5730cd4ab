using Microsoft.Extensions.DependencyInjection;
using System.Text.Json;

namespace Platform.Tests.Integration.Conversations;

/// <summary>Rotation, revocation and deactivation take effect on the very next request.</summary>
public sealed class CredentialLifecycleTests(ConversationsFixture fx) : IClassFixture<ConversationsFixture>
{
    private static async Task<string?> ProblemType(HttpResponseMessage response) =>
        (await ConversationsFixture.Json(response)).TryGetProperty("type", out var t) ? t.GetString() : null;

    [Fact]
    public async Task Rotating_a_channel_secret_retires_the_old_one_at_once()
    {
        var w = await fx.CreateWorldAsync();
        var rotated = await fx.Client(w.Tenant.ApiKey).PostAsync($"/v1/channels/{w.Channel.Id}/secret", null);
        Assert.Equal(HttpStatusCode.Created, rotated.StatusCode);
        var secret = (await ConversationsFixture.Json(rotated)).GetProperty("secret").GetString()!;
        Assert.StartsWith("cs_", secret);

        Assert.Equal(HttpStatusCode.Unauthorized, (await fx.Client(w.Channel.Secret).GetAsync($"/v1/conversations/{w.Conversation}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fx.Client(secret).GetAsync($"/v1/conversations/{w.Conversation}")).StatusCode);
    }

    [Fact]
    public async Task Revoking_an_api_key_refuses_it_at_once_while_other_keys_keep_working()
    {
        var w = await fx.CreateWorldAsync();
        var op = fx.Client(TestSettings.OperatorKey);
        var issued = await ConversationsFixture.Json(await op.PostAsync($"/v1/tenants/{w.Tenant.Id}/api-keys", null));
        var second = issued.GetProperty("apiKey").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await fx.Client(second).GetAsync("/v1/channels")).StatusCode);

        var revoke = await op.DeleteAsync($"/v1/tenants/{w.Tenant.Id}/api-keys/{issued.GetProperty("id").GetGuid()}");
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);

        var refused = await fx.Client(second).GetAsync("/v1/channels");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("urn:platform:problem:unauthenticated", await ProblemType(refused));
        Assert.Equal(HttpStatusCode.OK, (await fx.Client(w.Tenant.ApiKey).GetAsync("/v1/channels")).StatusCode);

        // Revoking a key of another tenant is "not found", never a revocation.
        var other = await fx.CreateTenantAsync("other");
        Assert.Equal(HttpStatusCode.NotFound,
            (await op.DeleteAsync($"/v1/tenants/{other.Id}/api-keys/{issued.GetProperty("id").GetGuid()}")).StatusCode);
    }

    /// <summary>A second Api host whose cached keys would outlive any test unless the revocation's notification reached it.</summary>
    private async Task<ApiFactory> LongCachingHostAsync()
    {
        var settings = new Dictionary<string, string?>(fx.Api.Settings) { ["Platform:ApiKeyCache:Lifetime"] = "01:00:00" };
        var host = new ApiFactory(settings);
        var cache = host.Services.GetRequiredService<Platform.Core.Tenancy.ApiKeyCache>();
        await Eventually.TrueAsync(() => Task.FromResult(cache.Listening), TimeSpan.FromSeconds(20), "the second host's key cache listens");
        return host;
    }

    [Fact]
    public async Task A_key_revoked_through_one_api_host_is_refused_by_a_second_host_that_had_cached_it()
    {
        var w = await fx.CreateWorldAsync();
        var op = fx.Client(TestSettings.OperatorKey);
        var issued = await ConversationsFixture.Json(await op.PostAsync($"/v1/tenants/{w.Tenant.Id}/api-keys", null));
        var key = issued.GetProperty("apiKey").GetString()!;
        await using var second = await LongCachingHostAsync();
        var onSecond = ConversationsFixture.ClientOf(second, key);
        Assert.Equal(HttpStatusCode.OK, (await onSecond.GetAsync("/v1/channels")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await onSecond.GetAsync("/v1/channels")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await op.DeleteAsync($"/v1/tenants/{w.Tenant.Id}/api-keys/{issued.GetProperty("id").GetGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await fx.Client(key).GetAsync("/v1/channels")).StatusCode);
        await Eventually.ReturnsAsync(async () => (await onSecond.GetAsync("/v1/channels")).StatusCode, s => s == HttpStatusCode.Unauthorized,
            TimeSpan.FromSeconds(2), "the second host refuses the revoked key");
        // The tenant's other key still works on both hosts.
        Assert.Equal(HttpStatusCode.OK, (await ConversationsFixture.ClientOf(second, w.Tenant.ApiKey).GetAsync("/v1/channels")).StatusCode);
    }

    [Fact]
    public async Task Deactivating_a_tenant_refuses_its_cached_key_at_once_on_the_host_that_did_it_and_soon_on_another()
    {
        var w = await fx.CreateWorldAsync();
        await using var second = await LongCachingHostAsync();
        var onFirst = fx.Client(w.Tenant.ApiKey);
        var onSecond = ConversationsFixture.ClientOf(second, w.Tenant.ApiKey);
        foreach (var client in new[] { onFirst, onSecond, onFirst, onSecond })
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/channels")).StatusCode);
        }

        var op = fx.Client(TestSettings.OperatorKey);
        Assert.Equal(HttpStatusCode.OK, (await op.PatchAsJsonAsync($"/v1/tenants/{w.Tenant.Id}", new { status = "inactive" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await onFirst.GetAsync("/v1/channels")).StatusCode);
        await Eventually.ReturnsAsync(async () => (await onSecond.GetAsync("/v1/channels")).StatusCode, s => s == HttpStatusCode.Forbidden,
            TimeSpan.FromSeconds(2), "the second host refuses the inactive tenant's key");

        await op.PatchAsJsonAsync($"/v1/tenants/{w.Tenant.Id}", new { status = "active" });
        Assert.Equal(HttpStatusCode.OK, (await onFirst.GetAsync("/v1/channels")).StatusCode);
    }

    [Fact]
    public async Task An_inactive_tenant_is_refused_with_403_for_every_credential_until_reactivated()
    {
        var w = await fx.CreateWorldAsync();
        var token = await fx.TokenAsync(w.Tenant.ApiKey, w.Conversation);
        var op = fx.Client(TestSettings.OperatorKey);
        var patch = await op.PatchAsJsonAsync($"/v1/tenants/{w.Tenant.Id}", new { status = "inactive" });
        Assert.Equal("inactive", (await ConversationsFixture.Json(patch)).GetProperty("status").GetString());

        foreach (var credential in new[] { w.Tenant.ApiKey, w.Channel.Secret, token })
        {
            var response = await fx.Client(credential).PostAsJsonAsync($"/v1/conversations/{w.Conversation}/activities", ConversationsFixture.Message("x"));
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal("urn:platform:problem:tenant-inactive", await ProblemType(response));
        }
        Assert.Equal(0, (await fx.ActivitiesAsyncAsOperatorView(w)).GetArrayLength());

        await op.PatchAsJsonAsync($"/v1/tenants/{w.Tenant.Id}", new { status = "active" });
        var again = await fx.Client(token).PostAsJsonAsync($"/v1/conversations/{w.Conversation}/activities", ConversationsFixture.Message("x"));
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
    }

    [Fact]
    public async Task An_inactive_channel_is_refused_with_403_for_its_secret_its_tokens_and_the_tenant_key()
    {
        var w = await fx.CreateWorldAsync();
        var token = await fx.TokenAsync(w.Channel.Secret, w.Conversation);
        var tenant = fx.Client(w.Tenant.ApiKey);
        Assert.Equal(HttpStatusCode.OK, (await tenant.PatchAsJsonAsync($"/v1/channels/{w.Channel.Id}", new { status = "inactive" })).StatusCode);

        var cases = new (string Credential, string Path, object Body)[]
        {
            (w.Channel.Secret, $"/v1/conversations/{w.Conversation}/activities", ConversationsFixture.Message("x")),
            (token, $"/v1/conversations/{w.Conversation}/activities", ConversationsFixture.Message("x")),
            (w.Tenant.ApiKey, $"/v1/conversations/{w.Conversation}/activities", ConversationsFixture.Message("x")),
            (w.Tenant.ApiKey, "/v1/conversations", new { channelId = w.Channel.Id }),
            (w.Tenant.ApiKey, $"/v1/conversations/{w.Conversation}/tokens", new { userId = "u" }),
        };
        foreach (var (credential, path, body) in cases)
        {
            var response = await fx.Client(credential).PostAsJsonAsync(path, body);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal("urn:platform:problem:channel-inactive", await ProblemType(response));
        }
        Assert.Equal(0, (await fx.ActivitiesAsync(w.Tenant.ApiKey, w.Conversation)).GetProperty("activities").GetArrayLength());

        await tenant.PatchAsJsonAsync($"/v1/channels/{w.Channel.Id}", new { status = "active" });
        Assert.Equal(HttpStatusCode.Created,
            (await fx.Client(w.Channel.Secret).PostAsJsonAsync($"/v1/conversations/{w.Conversation}/activities", ConversationsFixture.Message("x"))).StatusCode);
    }

    [Fact]
    public async Task A_closed_conversation_answers_409_on_post_and_stays_readable()
    {
        var w = await fx.CreateWorldAsync();
        var client = fx.Client(w.Channel.Secret);
        var path = $"/v1/conversations/{w.Conversation}/activities";
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync(path, ConversationsFixture.Message("before", clientActivityId: "c1"))).StatusCode);

        var closed = await client.PostAsync($"/v1/conversations/{w.Conversation}/close", null);
        Assert.Equal(HttpStatusCode.OK, closed.StatusCode);
        Assert.Equal("closed", (await ConversationsFixture.Json(closed)).GetProperty("status").GetString());

        var refused = await client.PostAsJsonAsync(path, ConversationsFixture.Message("after"));
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("urn:platform:problem:conversation-closed", await ProblemType(refused));
        // A retry of a post that made it before the close still gets its original answer.
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync(path, ConversationsFixture.Message("before", clientActivityId: "c1"))).StatusCode);

        var page = await fx.ActivitiesAsync(w.Channel.Secret, w.Conversation);
        Assert.Equal("before", Assert.Single(page.GetProperty("activities").EnumerateArray()).GetProperty("text").GetString());
    }

    [Fact]
    public async Task Tenants_are_created_listed_and_shown_without_their_keys()
    {
        var op = fx.Client(TestSettings.OperatorKey);
        var created = await op.PostAsJsonAsync("/v1/tenants", new { name = "listed" });
        var body = await ConversationsFixture.Json(created);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.StartsWith("pk_", body.GetProperty("apiKey").GetString());
        Assert.Equal("active", body.GetProperty("status").GetString());
        var id = body.GetProperty("id").GetGuid();

        var shown = await ConversationsFixture.Json(await op.GetAsync($"/v1/tenants/{id}"));
        Assert.False(shown.TryGetProperty("apiKey", out _));
        var listed = await ConversationsFixture.Json(await op.GetAsync("/v1/tenants?limit=1000"));
        Assert.Contains(listed.GetProperty("tenants").EnumerateArray(), t => t.GetProperty("id").GetGuid() == id);
        Assert.Equal(HttpStatusCode.NotFound, (await op.GetAsync($"/v1/tenants/{Guid.NewGuid()}")).StatusCode);
    }
}

internal static class LifecycleExtensions
{
    /// <summary>The conversation's stored activities, read with the operator's view of the database (bypassing the refused tenant).</summary>
    public static async Task<JsonElement> ActivitiesAsyncAsOperatorView(this ConversationsFixture fx, World w)
    {
        await using var conn = new Npgsql.NpgsqlConnection(fx.Database);
        await conn.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand("SELECT coalesce(json_agg(id), '[]'::json)::text FROM core.activities WHERE conversation_id = $1", conn);
        cmd.Parameters.Add(new() { Value = w.Conversation });
        return JsonDocument.Parse((string)(await cmd.ExecuteScalarAsync())!).RootElement.Clone();
    }
}
