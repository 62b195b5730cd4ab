using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Core.DirectLine;
using Platform.Tests.Integration.Conversations;

namespace Platform.Tests.Integration.DirectLine;

/// <summary>Small upload quotas so a few kilobytes reach them.</summary>
public sealed class UploadQuotaFixture : ConversationsFixture
{
    public const int ConversationQuota = 3000;
    public const int TenantQuota = 5000;

    protected override void Configure(Dictionary<string, string?> settings)
    {
        base.Configure(settings);
        settings["Platform:DirectLine:Uploads:MaxBytesPerConversation"] = ConversationQuota.ToString();
        settings["Platform:DirectLine:Uploads:MaxBytesPerTenant"] = TenantQuota.ToString();
        settings["Platform:DirectLine:Uploads:Retention"] = "1.00:00:00";
    }
}

/// <summary>
/// Direct Line uploads: a conversation and a tenant cannot hold more than their quota (413, nothing stored), files are
/// not served after the retention and the prune deletes them, and the tenant can erase a conversation's or a user's files.
/// </summary>
public sealed class UploadQuotaTests(UploadQuotaFixture fx) : IClassFixture<UploadQuotaFixture>
{
    [Fact]
    public async Task Uploads_are_held_to_quotas_expire_and_can_be_erased()
    {
        var w = await fx.CreateWorldAsync("uploads");
        var (first, firstToken) = await DirectLineConversationAsync(w.Channel.Secret, "alice");
        var (second, secondToken) = await DirectLineConversationAsync(w.Channel.Secret, "bob");
        var (third, thirdToken) = await DirectLineConversationAsync(w.Channel.Secret, "carol");

        var url1 = await UploadAsync(firstToken, first, 2000, HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.OK, (await fx.Client().GetAsync(url1)).StatusCode);

        // The conversation's quota: 2000 + 2000 > 3000, refused and nothing stored.
        var before = await CountAsync(w.Tenant.Id);
        await UploadAsync(firstToken, first, 2000, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(before, await CountAsync(w.Tenant.Id));

        // The tenant's quota: 2000 + 2000 fit, a third 2000 would make 6000 > 5000.
        var url2 = await UploadAsync(secondToken, second, 2000, HttpStatusCode.OK);
        await UploadAsync(thirdToken, third, 2000, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(before + 1, await CountAsync(w.Tenant.Id));

        // Retention: an upload older than a day is no longer served, and the prune deletes it (freeing the quota).
        await ExecuteAsync("UPDATE core.directline_uploads SET created_at = now() - interval '25 hours' WHERE tenant_id = $1 AND conversation_id = $2",
            w.Tenant.Id, first);
        Assert.Equal(HttpStatusCode.NotFound, (await fx.Client().GetAsync(url1)).StatusCode);
        Assert.Equal(1, await fx.Api.Services.GetRequiredService<DirectLineStore>().PruneExpiredAsync());
        Assert.Equal(1, await CountAsync(w.Tenant.Id));
        var url3 = await UploadAsync(thirdToken, third, 2000, HttpStatusCode.OK);

        // Erasure: one user's files, then a conversation's; their URLs answer 404. Another tenant's key erases nothing.
        var other = await fx.CreateWorldAsync("uploads-other");
        var foreign = await fx.Client(other.Tenant.ApiKey).DeleteAsync($"/v1/conversations/{second}/uploads");
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        Assert.Equal("application/problem+json", foreign.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, (await ConversationsFixture.Json(await fx.Client(other.Tenant.ApiKey).DeleteAsync("/v1/users/bob/uploads"))).GetProperty("deleted").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await fx.Client().GetAsync(url2)).StatusCode);

        var byUser = await ConversationsFixture.Json(await fx.Client(w.Tenant.ApiKey).DeleteAsync("/v1/users/bob/uploads"));
        Assert.Equal(1, byUser.GetProperty("deleted").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, (await fx.Client().GetAsync(url2)).StatusCode);
        var byConversation = await ConversationsFixture.Json(await fx.Client(w.Channel.Secret).DeleteAsync($"/v1/conversations/{third}/uploads"));
        Assert.Equal(1, byConversation.GetProperty("deleted").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, (await fx.Client().GetAsync(url3)).StatusCode);
        Assert.Equal(0, await CountAsync(w.Tenant.Id));
    }

    private async Task<(Guid Conversation, string Token)> DirectLineConversationAsync(string secret, string user)
    {
        var response = await fx.Client(secret).PostAsJsonAsync("/v3/directline/tokens/generate", new { user = new { id = user } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await ConversationsFixture.Json(response);
        return (Guid.Parse(body.GetProperty("conversationId").GetString()!), body.GetProperty("token").GetString()!);
    }

    /// <summary>Uploads one file of the given size; returns the attachment URL (path only) on success.</summary>
    private async Task<string> UploadAsync(string token, Guid conversation, int bytes, HttpStatusCode expected)
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(new byte[bytes]);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", "data.bin");
        var response = await fx.Client(token).PostAsync($"/v3/directline/conversations/{conversation}/upload", form);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{(int)response.StatusCode}: {text}");
        if (expected != HttpStatusCode.OK)
        {
            Assert.Equal("MessageSizeTooBig", System.Text.Json.JsonDocument.Parse(text).RootElement.GetProperty("error").GetProperty("code").GetString());
            return "";
        }
        // The posted activity carries the attachment's URL.
        var page = await fx.ActivitiesAsync(token, conversation);
        var url = page.GetProperty("activities").EnumerateArray().Last().GetProperty("attachments")[0].GetProperty("contentUrl").GetString()!;
        return new Uri(url).PathAndQuery;
    }

    private async Task<long> CountAsync(Guid tenant)
    {
        await using var conn = new NpgsqlConnection(fx.Database);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM core.directline_uploads WHERE tenant_id = $1", conn);
        cmd.Parameters.AddWithValue(tenant);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private async Task ExecuteAsync(string sql, Guid tenant, Guid conversation)
    {
        await using var conn = new NpgsqlConnection(fx.Database);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.AddWithValue(tenant);
        cmd.Parameters.AddWithValue(conversation);
        await cmd.ExecuteNonQueryAsync();
    }
}
