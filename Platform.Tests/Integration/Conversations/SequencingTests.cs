using System.Collections.Concurrent;
using System.Text.Json;
using Platform.Core.Messaging;
using StackExchange.Redis;

namespace Platform.Tests.Integration.Conversations;

/// <summary>seq is 1, 2, 3 … per conversation under concurrent posters; retries are idempotent; commit precedes the doorbell.</summary>
public sealed class SequencingTests(ConversationsFixture fx) : IClassFixture<ConversationsFixture>
{
    [Fact]
    public async Task Fifty_concurrent_posters_of_forty_activities_get_seq_1_to_2000_and_retries_add_nothing()
    {
        const int Posters = 50, PerPoster = 40;
        var w = await fx.CreateWorldAsync();
        var path = $"/v1/conversations/{w.Conversation}/activities";
        var receipts = new ConcurrentDictionary<string, (string Id, long Seq)>();
        var retryMismatches = new ConcurrentBag<string>();

        await Task.WhenAll(Enumerable.Range(0, Posters).Select(p => Task.Run(async () =>
        {
            var client = fx.Client(w.Tenant.ApiKey);
            for (var i = 0; i < PerPoster; i++)
            {
                var clientId = $"p{p}-a{i}";
                var body = ConversationsFixture.Message($"poster {p} message {i}", $"user-{p}", clientId);
                var first = await client.PostAsJsonAsync(path, body);
                Assert.Equal(HttpStatusCode.Created, first.StatusCode);
                var receipt = await ConversationsFixture.Json(first);
                receipts[clientId] = (receipt.GetProperty("id").GetString()!, receipt.GetProperty("seq").GetInt64());
                if (i % 4 == 0)
                {
                    // A client that lost the answer retries: same clientActivityId, original id and seq, 200.
                    var retry = await client.PostAsJsonAsync(path, body);
                    var again = await ConversationsFixture.Json(retry);
                    if (retry.StatusCode != HttpStatusCode.OK || again.GetProperty("id").GetString() != receipts[clientId].Id ||
                        again.GetProperty("seq").GetInt64() != receipts[clientId].Seq)
                    {
                        retryMismatches.Add($"{clientId}: {(int)retry.StatusCode} {again}");
                    }
                }
            }
        })));

        Assert.Empty(retryMismatches);
        var all = new List<JsonElement>();
        long watermark = 0;
        while (true)
        {
            var page = await fx.ActivitiesAsync(w.Tenant.ApiKey, w.Conversation, watermark, 1000);
            var items = page.GetProperty("activities").EnumerateArray().ToList();
            if (items.Count == 0)
            {
                Assert.Equal(watermark, page.GetProperty("watermark").GetInt64());
                break;
            }
            all.AddRange(items);
            watermark = page.GetProperty("watermark").GetInt64();
        }

        Assert.Equal(Enumerable.Range(1, Posters * PerPoster).Select(i => (long)i), all.Select(a => a.GetProperty("seq").GetInt64()));
        Assert.Equal(Posters * PerPoster, all.Select(a => a.GetProperty("clientActivityId").GetString()).Distinct().Count());
        Assert.Equal(Posters * PerPoster, all.Select(a => a.GetProperty("id").GetString()).Distinct().Count());
        foreach (var a in all)
        {
            Assert.Equal(receipts[a.GetProperty("clientActivityId").GetString()!].Seq, a.GetProperty("seq").GetInt64());
        }
        // Creation order is seq order: timestamps never go backwards along seq.
        var stamps = all.Select(a => a.GetProperty("timestamp").GetDateTimeOffset()).ToList();
        Assert.True(stamps.Zip(stamps.Skip(1)).All(p => p.First <= p.Second), "timestamps follow seq");
        // Each poster's own activities keep the order it sent them in.
        foreach (var group in all.GroupBy(a => a.GetProperty("from").GetProperty("id").GetString()))
        {
            var texts = group.Select(a => a.GetProperty("text").GetString()).ToList();
            Assert.Equal(texts.OrderBy(t => int.Parse(t!.Split(' ')[^1])), texts);
        }
    }

    [Fact]
    public async Task The_same_clientActivityId_posted_concurrently_is_stored_once()
    {
        var w = await fx.CreateWorldAsync();
        var path = $"/v1/conversations/{w.Conversation}/activities";
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            fx.Client(w.Channel.Secret).PostAsJsonAsync(path, ConversationsFixture.Message("once", clientActivityId: "dup-1"))));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(19, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        var seqs = await Task.WhenAll(responses.Select(async r => (await ConversationsFixture.Json(r)).GetProperty("seq").GetInt64()));
        Assert.All(seqs, s => Assert.Equal(1, s));

        // The next new activity is seq 2: the rolled-back attempts took no number.
        var next = await fx.Client(w.Channel.Secret).PostAsJsonAsync(path, ConversationsFixture.Message("next"));
        Assert.Equal(2, (await ConversationsFixture.Json(next)).GetProperty("seq").GetInt64());
    }

    [Fact]
    public async Task A_doorbell_follows_the_commit_and_carries_the_rest_shape_typing_is_published_but_not_stored()
    {
        var w = await fx.CreateWorldAsync();
        using var redis = await ConnectionMultiplexer.ConnectAsync(fx.Redis);
        var received = new ConcurrentQueue<byte[]>();
        var committedWhenRung = new ConcurrentQueue<bool>();
        await redis.GetSubscriber().SubscribeAsync(StackExchange.Redis.RedisChannel.Literal(Doorbell.Channel(w.Tenant.Id, w.Conversation)), (_, message) =>
        {
            // Checked at the moment the doorbell arrives, from another connection: the row must already be committed.
            if (Doorbell.Parse(message!)?.Seq is { } seq)
            {
                committedWhenRung.Enqueue(IsCommitted(w.Conversation, seq));
            }
            received.Enqueue(message!);
        });

        var path = $"/v1/conversations/{w.Conversation}/activities";
        var client = fx.Client(w.Tenant.ApiKey);
        var posted = await client.PostAsync(path, ConversationsFixture.Body("""
            {"type":"message","text":"hello","from":{"id":"alice","name":"Alice"},
             "attachments":[{"contentUrl":"https://example.org/a.png","contentType":"image/png"}],
             "entities":[{"type":"mention","mentioned":{"id":"bob"}}],
             "value":{"z":1,"a":[true,null]},"channelData":{"clientActivityID":"web-1","webchat:x":"y"}}
            """));
        Assert.Equal(HttpStatusCode.Created, posted.StatusCode);

        var doorbell = await Eventually.ReturnsAsync(() => Task.FromResult(received.ToArray()), r => r.Length >= 1, because: "the doorbell arrives");
        var bell = Doorbell.Parse(doorbell[0])!;
        Assert.Equal(1, bell.Seq);
        Assert.True(bell.CommittedAtUnixMs > 0);
        Assert.Equal([true], committedWhenRung.ToArray());

        // The doorbell's activity is exactly what REST returns (PostgreSQL is the truth and has it already).
        var page = await fx.ActivitiesAsync(w.Tenant.ApiKey, w.Conversation);
        var rest = page.GetProperty("activities")[0].GetRawText();
        using var doc = JsonDocument.Parse(doorbell[0]);
        Assert.Equal(rest, doc.RootElement.GetProperty("activity").GetRawText());
        Assert.Contains("\"value\":{\"z\":1,\"a\":[true,null]}", rest, StringComparison.Ordinal); // opaque JSON unmodified
        Assert.Equal("web-1", page.GetProperty("activities")[0].GetProperty("clientActivityId").GetString()); // Web Chat's key honoured

        var typing = await client.PostAsJsonAsync(path, new { type = "typing", from = new { id = "alice" } });
        Assert.Equal(HttpStatusCode.Accepted, typing.StatusCode);
        Assert.Equal(JsonValueKind.Null, (await ConversationsFixture.Json(typing)).GetProperty("seq").ValueKind);
        var bells = await Eventually.ReturnsAsync(() => Task.FromResult(received.ToArray()), r => r.Length >= 2, because: "typing is published");
        var typingBell = Doorbell.Parse(bells[1])!;
        Assert.Null(typingBell.Seq);
        Assert.Equal("typing", typingBell.Activity.Type);
        var after = await fx.ActivitiesAsync(w.Tenant.ApiKey, w.Conversation);
        Assert.Equal(1, after.GetProperty("activities").GetArrayLength());
        Assert.Equal(1, after.GetProperty("watermark").GetInt64());
    }

    [Fact]
    public async Task Every_201_is_answered_after_its_activity_is_committed()
    {
        var w = await fx.CreateWorldAsync();
        var path = $"/v1/conversations/{w.Conversation}/activities";
        var notYetVisible = new ConcurrentBag<long>();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(p => Task.Run(async () =>
        {
            var client = fx.Client(w.Tenant.ApiKey);
            for (var i = 0; i < 25; i++)
            {
                var posted = await client.PostAsJsonAsync(path, ConversationsFixture.Message($"p{p} m{i}"));
                Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
                // Read from another connection the moment the answer arrives: the row must already be visible.
                var seq = (await ConversationsFixture.Json(posted)).GetProperty("seq").GetInt64();
                if (!IsCommitted(w.Conversation, seq))
                {
                    notYetVisible.Add(seq);
                }
            }
        })));
        Assert.Empty(notYetVisible);
    }

    [Fact]
    public async Task Retrying_an_older_activity_between_new_ones_returns_the_original_and_leaves_no_gap()
    {
        var w = await fx.CreateWorldAsync();
        var path = $"/v1/conversations/{w.Conversation}/activities";
        var client = fx.Client(w.Tenant.ApiKey);
        var first = await ConversationsFixture.Json(await client.PostAsJsonAsync(path, ConversationsFixture.Message("one", clientActivityId: "c-1")));
        Assert.Equal(1, first.GetProperty("seq").GetInt64());
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync(path, ConversationsFixture.Message("two", clientActivityId: "c-2"))).StatusCode);

        var retry = await client.PostAsJsonAsync(path, ConversationsFixture.Message("one, sent again", clientActivityId: "c-1"));
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        var again = await ConversationsFixture.Json(retry);
        Assert.Equal(first.GetProperty("id").GetString(), again.GetProperty("id").GetString());
        Assert.Equal(1, again.GetProperty("seq").GetInt64());

        var third = await client.PostAsJsonAsync(path, ConversationsFixture.Message("three"));
        Assert.Equal(3, (await ConversationsFixture.Json(third)).GetProperty("seq").GetInt64());
        var page = await fx.ActivitiesAsync(w.Tenant.ApiKey, w.Conversation);
        Assert.Equal(["one", "two", "three"], page.GetProperty("activities").EnumerateArray().Select(a => a.GetProperty("text").GetString()));
    }

    private bool IsCommitted(Guid conversation, long seq)
    {
        using var conn = new Npgsql.NpgsqlConnection(fx.Database);
        conn.Open();
        using var cmd = new Npgsql.NpgsqlCommand("SELECT count(*) FROM core.activities WHERE conversation_id = $1 AND seq = $2", conn);
        cmd.Parameters.Add(new() { Value = conversation });
        cmd.Parameters.Add(new() { Value = seq });
        return (long)cmd.ExecuteScalar()! == 1;
    }
}
