namespace Platform.Tests.Integration.Realtime;

public sealed class NodeShutdownTests(RealtimeFixture fx) : IClassFixture<RealtimeFixture>
{
    [Fact]
    public async Task A_stopping_node_sends_1012_and_clients_resume_on_the_other_without_loss()
    {
        var world = await fx.CreateWorldAsync();
        var token = await fx.TokenAsync(world.Tenant.ApiKey, world.Conversation);
        var clients = new List<StreamClient>();
        for (var i = 0; i < 5; i++)
        {
            clients.Add(await StreamClient.ConnectAsync(fx.NodeUri(0), token, 0));
        }
        await fx.PostAsync(world.Tenant.ApiKey, world.Conversation, 20);
        foreach (var c in clients)
        {
            await c.WaitForSeqAsync(20);
        }

        var stopping = fx.StopNodeAsync(0);
        var posting = fx.PostAsync(world.Tenant.ApiKey, world.Conversation, 50, prefix: "during", concurrency: 2);
        foreach (var c in clients)
        {
            await c.WaitForEndAsync();
            Assert.Equal(1012, (int?)c.CloseStatus);
        }
        await stopping;
        await posting;

        foreach (var c in clients)
        {
            await using var resumed = await StreamClient.ConnectAsync(fx.NodeUri(1), token, c.LastWatermark);
            await resumed.WaitForSeqAsync(70);
            StreamClient.AssertExactly([.. c.Seqs, .. resumed.Seqs], 1, 70);
            await c.DisposeAsync();
        }
        fx.StartNode(0); // leave the fixture as it was
    }
}

/// <summary>Node 0 has a small send queue so a client that stops reading overflows it quickly.</summary>
public sealed class SlowConsumerFixture : RealtimeFixture
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await StopNodeAsync(0);
        StartNode(0, s =>
        {
            s["Platform:Realtime:SendQueueCapacity"] = "32";
            s["Platform:Realtime:SendTimeout"] = "00:01:00";
        });
    }
}

public sealed class SlowConsumerTests(SlowConsumerFixture fx) : IClassFixture<SlowConsumerFixture>
{
    [Fact]
    public async Task A_client_that_never_reads_is_closed_with_4408_and_does_not_slow_the_others()
    {
        var world = await fx.CreateWorldAsync();
        var token = await fx.TokenAsync(world.Tenant.ApiKey, world.Conversation);
        var overflows = new SlowConsumerCounter();
        await using var healthy = await StreamClient.ConnectAsync(fx.NodeUri(0), token, 0);
        await using var stalled = await StreamClient.ConnectAsync(fx.NodeUri(0), token, 0, paused: true);

        // Large activities fill the stalled client's socket buffers, then its 32-frame queue.
        var big = new string('x', 30_000);
        var api = fx.Client(world.Tenant.ApiKey);
        var posted = 0;
        while (overflows.Count == 0 && posted < 2000)
        {
            await Task.WhenAll(Enumerable.Range(0, 5).Select(_ =>
                api.PostAsJsonAsync($"/v1/conversations/{world.Conversation}/activities", new { type = "message", text = big, from = new { id = "a" } })));
            posted += 5;
        }
        Assert.True(overflows.Count > 0, $"the stalled client's queue never overflowed after {posted} posts");

        await healthy.WaitForSeqAsync(posted);
        StreamClient.AssertExactly(healthy.Seqs, 1, posted);

        stalled.Resume();
        await stalled.WaitForEndAsync();
        Assert.Equal(4408, (int?)stalled.CloseStatus);
        Assert.True(stalled.Seqs.Count < posted);
        StreamClient.AssertExactly(stalled.Seqs, 1, stalled.Seqs.Count); // what it got is a gap-free prefix
        overflows.Dispose();
    }
}

/// <summary>Listens to the node's slow-consumer counter in this process.</summary>
internal sealed class SlowConsumerCounter : IDisposable
{
    private readonly System.Diagnostics.Metrics.MeterListener _listener = new();
    private long _count;

    public long Count => Interlocked.Read(ref _count);

    public SlowConsumerCounter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Name == "platform.realtime.slow_consumer_closes")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _count, value));
        _listener.Start();
    }

    public void Dispose() => _listener.Dispose();
}

/// <summary>Api and both nodes on a Redis of their own, which the test restarts.</summary>
public sealed class OwnRedisFixture : RealtimeFixture
{
    protected override bool OwnsRedis => true;
}

public sealed class RedisRestartTests(OwnRedisFixture fx) : IClassFixture<OwnRedisFixture>
{
    [Fact]
    public async Task Activities_posted_across_a_redis_restart_all_arrive_exactly_once_in_order()
    {
        var world = await fx.CreateWorldAsync();
        var token = await fx.TokenAsync(world.Tenant.ApiKey, world.Conversation);
        await using var a = await StreamClient.ConnectAsync(fx.NodeUri(0), token, 0);
        await using var b = await StreamClient.ConnectAsync(fx.NodeUri(1), token, 0);

        await fx.PostAsync(world.Tenant.ApiKey, world.Conversation, 70, prefix: "before");
        await fx.OwnRedis.StopAsync();
        await fx.PostAsync(world.Tenant.ApiKey, world.Conversation, 60, prefix: "during");
        await fx.OwnRedis.StartAgainAsync();
        await fx.PostAsync(world.Tenant.ApiKey, world.Conversation, 70, prefix: "after");

        await a.WaitForSeqAsync(200, TimeSpan.FromSeconds(60));
        await b.WaitForSeqAsync(200, TimeSpan.FromSeconds(60));
        StreamClient.AssertExactly(a.Seqs, 1, 200);
        StreamClient.AssertExactly(b.Seqs, 1, 200);
    }
}
