extern alias ApiHost;

using System.Text.Json;
using ApiHost::Platform.Api.Apis;
using Platform.Core.Messaging;
using Platform.Core.Tenancy;

namespace Platform.Tests.Unit;

public sealed class ActivityRulesTests
{
    private static ActivityDraft Draft(string json) => JsonSerializer.Deserialize(json, ActivityJsonContext.Default.ActivityDraft)!;

    [Fact]
    public void A_message_with_text_passes_and_keeps_its_fields()
    {
        var (content, errors) = ActivityRules.Validate(Draft("""{"type":"message","text":"hi","from":{"id":"a","name":"A"},"value":{"k":1}}"""), null);
        Assert.Empty(errors);
        Assert.Equal("hi", content!.Text);
        Assert.Equal(new ChannelAccount("a", "A"), content.From);
        Assert.Equal(1, content.Value!.Value.GetProperty("k").GetInt32());
    }

    [Fact]
    public void A_client_token_user_replaces_from_id_and_makes_it_optional()
    {
        var (content, errors) = ActivityRules.Validate(Draft("""{"type":"typing","from":{"id":"someone-else","name":"N"}}"""), "token-user");
        Assert.Empty(errors);
        Assert.Equal(new ChannelAccount("token-user", "N"), content!.From);
        Assert.Empty(ActivityRules.Validate(Draft("""{"type":"event","name":"x"}"""), "token-user").Errors);
    }

    [Theory]
    [InlineData("""{"type":"poke","text":"x","from":{"id":"a"}}""", "type")]
    [InlineData("""{"type":"message","from":{"id":"a"}}""", "text")]
    [InlineData("""{"type":"message","text":"x","from":{"id":""}}""", "from.id")]
    [InlineData("""{"type":"message","text":"x","from":{"id":"a"},"attachments":[{"contentUrl":"file:///etc/passwd"}]}""", "attachments[0].contentUrl")]
    [InlineData("""{"type":"message","text":"x","from":{"id":"a"},"attachments":[null]}""", "attachments[0]")]
    [InlineData("""{"type":"message","text":"x","from":{"id":"a"},"entities":{"type":"mention"}}""", "entities")]
    [InlineData("""{"type":"message","text":"x","from":{"id":"a"},"entities":[{"type":""}]}""", "entities[0].type")]
    [InlineData("""{"type":"message","text":"x","from":{"id":"a"},"clientActivityId":""}""", "clientActivityId")]
    public void Each_rule_names_its_field(string json, string field)
    {
        var (content, errors) = ActivityRules.Validate(Draft(json), null);
        Assert.Null(content);
        Assert.True(errors.ContainsKey(field), string.Join(", ", errors.Keys));
    }

    [Fact]
    public void Limits_are_inclusive()
    {
        var atLimit = new string('x', ActivityRules.MaxTextBytes);
        Assert.Empty(ActivityRules.Validate(new ActivityDraft("message", atLimit, null, new("a"), null, null, null, null, null, null), null).Errors);
        var tenUrls = Enumerable.Repeat<Attachment?>(new Attachment("https://example.org/x"), 10).ToList();
        Assert.Empty(ActivityRules.Validate(new ActivityDraft("message", null, tenUrls, new("a"), null, null, null, null, null, null), null).Errors);
        tenUrls.Add(new Attachment("https://example.org/x"));
        Assert.Contains("attachments", ActivityRules.Validate(new ActivityDraft("message", null, tenUrls, new("a"), null, null, null, null, null, null), null).Errors.Keys);
    }

    [Fact]
    public void Web_chat_client_activity_id_in_channel_data_is_the_idempotency_key()
    {
        var (content, _) = ActivityRules.Validate(Draft("""{"type":"message","text":"x","from":{"id":"a"},"channelData":{"clientActivityID":"wc-1"}}"""), null);
        Assert.Equal("wc-1", content!.ClientActivityId);
        var (explicitId, _) = ActivityRules.Validate(
            Draft("""{"type":"message","text":"x","from":{"id":"a"},"clientActivityId":"mine","channelData":{"clientActivityID":"wc-1"}}"""), null);
        Assert.Equal("mine", explicitId!.ClientActivityId);
    }
}

public sealed class FixedWindowTests
{
    [Fact]
    public void Retry_after_counts_whole_seconds_to_the_end_of_the_window()
    {
        var start = DateTimeOffset.FromUnixTimeSeconds(600); // a window boundary for 60 s windows
        Assert.Equal((10L, 60), FixedWindow.At(start, 60));
        Assert.Equal((10L, 1), FixedWindow.At(start.AddSeconds(59.5), 60));
        Assert.Equal((10L, 31), FixedWindow.At(start.AddSeconds(29.2), 60)); // 30.8 s left rounds up
        Assert.Equal(11L, FixedWindow.At(start.AddSeconds(60), 60).Index);
    }

    [Fact]
    public void The_limit_itself_is_allowed_and_the_next_is_refused()
    {
        Assert.True(FixedWindow.Decide(5, 5, 12).Allowed);
        var refused = FixedWindow.Decide(6, 5, 12);
        Assert.False(refused.Allowed);
        Assert.Equal(12, refused.RetryAfterSeconds);
    }
}

public sealed class StreamUrlTests
{
    [Theory]
    [InlineData("http://10.0.0.5:7080", "ws://10.0.0.5:7080/v1/stream?token=a.b.c")]
    [InlineData("https://rt.example.org", "wss://rt.example.org/v1/stream?token=a.b.c")]
    [InlineData("https://rt.example.org:8443/base/", "wss://rt.example.org:8443/base/v1/stream?token=a.b.c")]
    public void Http_becomes_ws_and_https_becomes_wss_with_the_token_in_the_query(string node, string expected) =>
        Assert.Equal(expected, RealtimeNodes.StreamUrl(new Uri(node), "a.b.c"));

    [Theory]
    [InlineData("$.attachments[0].contentUrl", "attachments[0].contentUrl")]
    [InlineData("$", "body")]
    [InlineData(null, "body")]
    public void Json_paths_name_the_field(string? path, string field) => Assert.Equal(field, JsonBody.FieldOf(path));
}

public sealed class DoorbellTests
{
    [Fact]
    public void The_doorbell_round_trips_and_names_the_conversation_channel()
    {
        var tenant = Guid.Parse("11111111-1111-1111-1111-111111111111");
        var conversation = Guid.Parse("22222222-2222-2222-2222-222222222222");
        Assert.Equal("platform:11111111-1111-1111-1111-111111111111:conv:22222222-2222-2222-2222-222222222222", Doorbell.Channel(tenant, conversation));

        var activity = new Activity("x-1", 1, conversation, "message", "hi", null, new("a"), DateTimeOffset.UnixEpoch, null, null, null, null,
            JsonElement.Parse("""{"b":2,"a":1}"""), null);
        var json = System.Text.Encoding.UTF8.GetString(new Doorbell(1, activity, 42).ToUtf8Json());
        Assert.StartsWith("""{"seq":1,"activity":{"id":"x-1","seq":1,""", json);
        Assert.Contains("\"value\":{\"b\":2,\"a\":1}", json, StringComparison.Ordinal);
        Assert.EndsWith(""","committedAtUnixMs":42}""", json);
        Assert.Equal(activity.Id, Doorbell.Parse(System.Text.Encoding.UTF8.GetBytes(json))!.Activity.Id);

        var typing = System.Text.Encoding.UTF8.GetString(new Doorbell(null, activity with { Seq = null, Type = "typing" }, 1).ToUtf8Json());
        Assert.StartsWith("""{"seq":null,""", typing);

        // A traced post carries its traceparent, so the stream nodes' fan-out joins the posting request's trace.
        const string traceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        var traced = new Doorbell(1, activity, 42, traceParent).ToUtf8Json();
        Assert.EndsWith($$""","traceParent":"{{traceParent}}"}""", System.Text.Encoding.UTF8.GetString(traced));
        Assert.Equal(traceParent, Doorbell.Parse(traced)!.TraceParent);
    }
}
