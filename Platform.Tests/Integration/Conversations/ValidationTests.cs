using System.Text;
using System.Text.Json;

namespace Platform.Tests.Integration.Conversations;

/// <summary>Every validation rule answers 400/413 problem details naming the field, and nothing is stored.</summary>
public sealed class ValidationTests(ConversationsFixture fx) : IClassFixture<ConversationsFixture>
{
    private static string Repeat(char c, int n) => new(c, n);

    public static TheoryData<string, string, int, string> InvalidActivities => new()
    {
        { "unknown type", """{"type":"poke","text":"x","from":{"id":"a"}}""", 400, "type" },
        { "missing type", """{"text":"x","from":{"id":"a"}}""", 400, "type" },
        { "message without text or attachments", """{"type":"message","from":{"id":"a"}}""", 400, "text" },
        { "message with blank text", """{"type":"message","text":"   ","from":{"id":"a"}}""", 400, "text" },
        { "text over 32 KiB", $$$"""{"type":"message","text":"{{{Repeat('x', 32 * 1024 + 1)}}}","from":{"id":"a"}}""", 400, "text" },
        { "text over 32 KiB in UTF-8 bytes", $$$"""{"type":"message","text":"{{{Repeat('é', 16 * 1024 + 1)}}}","from":{"id":"a"}}""", 400, "text" },
        { "eleven attachments", "{\"type\":\"message\",\"from\":{\"id\":\"a\"},\"attachments\":[" +
            string.Join(",", Enumerable.Repeat("{\"contentUrl\":\"https://example.org/f\"}", 11)) + "]}", 400, "attachments" },
        { "ftp attachment URL", """{"type":"message","from":{"id":"a"},"attachments":[{"contentUrl":"ftp://example.org/f"}]}""", 400, "attachments[0].contentUrl" },
        { "javascript attachment URL", """{"type":"message","text":"x","from":{"id":"a"},"attachments":[{"contentUrl":"https://ok.org"},{"contentUrl":"javascript:alert(1)"}]}""", 400, "attachments[1].contentUrl" },
        { "relative attachment URL", """{"type":"message","from":{"id":"a"},"attachments":[{"contentUrl":"/f.png"}]}""", 400, "attachments[0].contentUrl" },
        { "malformed JSON", """{"type":"message","text":"x",""", 400, "body" },
        { "not JSON at all", "hello", 400, "body" },
        { "wrong type of a field", """{"type":"message","text":5,"from":{"id":"a"}}""", 400, "text" },
        { "missing sender", """{"type":"message","text":"x"}""", 400, "from.id" },
        { "entity without type", """{"type":"message","text":"x","from":{"id":"a"},"entities":[{"mentioned":{"id":"b"}}]}""", 400, "entities[0].type" },
        { "value over 8 KiB", $$$"""{"type":"event","name":"e","from":{"id":"a"},"value":"{{{Repeat('v', 8 * 1024)}}}"}""", 400, "value" },
        { "channelData over 8 KiB", $$$"""{"type":"message","text":"x","from":{"id":"a"},"channelData":{"k":"{{{Repeat('v', 8 * 1024)}}}"}}""", 400, "channelData" },
        { "empty body", "", 400, "body" },
        { "body over 256 KiB", $$$"""{"type":"message","text":"x","from":{"id":"a"},"pad":"{{{Repeat('p', 256 * 1024)}}}"}""", 413, "body" },
    };

    [Theory]
    [MemberData(nameof(InvalidActivities))]
    public async Task An_invalid_activity_is_refused_naming_the_field_and_nothing_is_stored(string rule, string json, int status, string field)
    {
        var w = await fx.CreateWorldAsync();
        var response = await fx.Client(w.Tenant.ApiKey).PostAsync($"/v1/conversations/{w.Conversation}/activities", ConversationsFixture.Body(json));

        Assert.True(status == (int)response.StatusCode, $"{rule}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        await AssertNamesField(response, field);
        await AssertNothingStored(w);
    }

    [Fact]
    public async Task Ids_that_are_not_ids_and_bad_paging_are_400_naming_the_parameter()
    {
        var w = await fx.CreateWorldAsync();
        var client = fx.Client(w.Tenant.ApiKey);
        await AssertNamesField(await client.PostAsync("/v1/conversations/not-an-id/activities", ConversationsFixture.Body("""{"type":"message","text":"x","from":{"id":"a"}}""")), "id");
        await AssertNamesField(await client.GetAsync("/v1/conversations/12345/activities"), "id");
        await AssertNamesField(await client.GetAsync("/v1/channels/%20"), "id");
        await AssertNamesField(await fx.Client(TestSettings.OperatorKey).GetAsync("/v1/tenants/nope"), "id");
        await AssertNamesField(await client.GetAsync($"/v1/conversations/{w.Conversation}/activities?watermark=abc"), "watermark");
        await AssertNamesField(await client.GetAsync($"/v1/conversations/{w.Conversation}/activities?watermark=-1"), "watermark");
        await AssertNamesField(await client.GetAsync($"/v1/conversations/{w.Conversation}/activities?limit=1001"), "limit");
        await AssertNamesField(await client.GetAsync($"/v1/conversations/{w.Conversation}/activities?limit=0"), "limit");
        await AssertNamesField(await client.PostAsync("/v1/conversations", ConversationsFixture.Body("""{"channelId":"nope"}""")), "channelId");
        await AssertNamesField(await client.PostAsync("/v1/conversations", ConversationsFixture.Body("{}")), "channelId");
        await AssertNamesField(await client.PostAsync($"/v1/conversations/{w.Conversation}/tokens", ConversationsFixture.Body("{}")), "userId");
        await AssertNamesField(await client.PostAsync($"/v1/conversations/{w.Conversation}/tokens", ConversationsFixture.Body("""{"userId":"u","ttlSeconds":86401}""")), "ttlSeconds");
        await AssertNamesField(await client.PostAsync($"/v1/conversations/{w.Conversation}/tokens", ConversationsFixture.Body("""{"userId":"u","ttlSeconds":0}""")), "ttlSeconds");
        await AssertNamesField(await client.PatchAsync($"/v1/channels/{w.Channel.Id}", ConversationsFixture.Body("""{"status":"paused"}""")), "status");
        await AssertNamesField(await client.PostAsync("/v1/channels", ConversationsFixture.Body("""{"name":""}""")), "name");
        await AssertNamesField(await fx.Client(TestSettings.OperatorKey).PostAsync("/v1/tenants", ConversationsFixture.Body("[1]")), "body");
        await AssertNothingStored(w);

        // Only the one channel and conversation of the world exist for this tenant.
        var channels = await ConversationsFixture.Json(await client.GetAsync("/v1/channels"));
        Assert.Equal(1, channels.GetProperty("channels").GetArrayLength());
    }

    [Fact]
    public async Task Valid_activities_of_every_kind_are_accepted_and_returned_whole()
    {
        var w = await fx.CreateWorldAsync();
        var client = fx.Client(w.Tenant.ApiKey);
        var path = $"/v1/conversations/{w.Conversation}/activities";
        var text = new string('x', 32 * 1024);
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync(path, ConversationsFixture.Body(
            $$$"""{"type":"message","text":"{{{text}}}","from":{"id":"a"}}"""))).StatusCode);
        var first = await ConversationsFixture.Json(await client.PostAsync(path, ConversationsFixture.Body(
            """{"type":"message","from":{"id":"a","name":"Ann"},"attachments":[{"contentUrl":"http://example.org/f.pdf","name":"f.pdf"}]}""")));
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync(path, ConversationsFixture.Body(
            $$$"""{"type":"event","name":"reaction","from":{"id":"b"},"replyToId":"{{{first.GetProperty("id").GetString()}}}","value":{"emoji":"👍"}}"""))).StatusCode);

        var page = await fx.ActivitiesAsync(w.Tenant.ApiKey, w.Conversation, watermark: 1, limit: 1);
        Assert.Equal(2, page.GetProperty("watermark").GetInt64());
        var a = Assert.Single(page.GetProperty("activities").EnumerateArray());
        Assert.Equal("f.pdf", a.GetProperty("attachments")[0].GetProperty("name").GetString());
        Assert.Equal("Ann", a.GetProperty("from").GetProperty("name").GetString());
        foreach (var name in new[] { "id", "seq", "conversationId", "type", "text", "attachments", "from", "timestamp", "clientActivityId", "replyToId",
                     "entities", "name", "value", "channelData" })
        {
            Assert.True(a.TryGetProperty(name, out _), $"activity has {name}");
        }
        var id = a.GetProperty("id").GetString()!;
        Assert.Equal(Uri.EscapeDataString(id), id); // URL-safe
        var last = await fx.ActivitiesAsync(w.Tenant.ApiKey, w.Conversation, watermark: 2);
        Assert.Equal("reaction", last.GetProperty("activities")[0].GetProperty("name").GetString());
        Assert.Equal(id, last.GetProperty("activities")[0].GetProperty("replyToId").GetString());
    }

    private static async Task AssertNamesField(HttpResponseMessage response, string field)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge, $"{field}: {(int)response.StatusCode} {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"the problem names {field}: {body}");
    }

    private async Task AssertNothingStored(World w)
    {
        var conversation = await ConversationsFixture.Json(await fx.Client(w.Tenant.ApiKey).GetAsync($"/v1/conversations/{w.Conversation}"));
        Assert.Equal(0, conversation.GetProperty("lastSeq").GetInt64());
        Assert.Equal(0, (await fx.ActivitiesAsyncAsOperatorView(w)).GetArrayLength());
    }
}
