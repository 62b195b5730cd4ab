using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Platform.Tests.Integration.Conversations;

namespace Platform.Tests.Integration.Realtime;

/// <summary>
/// An Api plus two Realtime nodes (real Kestrel listeners, so real WebSocket clients connect) on one fresh
/// database and one Redis. The Api hands out stream URLs of exactly these two nodes.
/// </summary>
public class RealtimeFixture : ConversationsFixture
{
    private readonly int[] _ports = [LocalServers.FreePort(), LocalServers.FreePort()];
    private readonly RealtimeFactory?[] _nodes = new RealtimeFactory?[2];

    public Uri NodeUri(int i) => new($"http://127.0.0.1:{_ports[i]}");

    protected override void Configure(Dictionary<string, string?> settings)
    {
        base.Configure(settings);
        settings["services:realtime:http:0"] = NodeUri(0).ToString();
        settings["services:realtime:http:1"] = NodeUri(1).ToString();
        ConfigureNodes(settings);
    }

    /// <summary>Lets a test class point the nodes at another Redis or tune them.</summary>
    protected virtual void ConfigureNodes(Dictionary<string, string?> settings)
    {
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        for (var i = 0; i < 2; i++)
        {
            StartNode(i);
        }
    }

    public RealtimeFactory StartNode(int i, Action<Dictionary<string, string?>>? tune = null)
    {
        var settings = new Dictionary<string, string?>(Api.Settings)
        {
            ["Platform:Realtime:IdleCheckInterval"] = "00:00:01",
        };
        tune?.Invoke(settings);
        var node = new RealtimeFactory(settings);
        // Listen(...) rather than UseKestrel(port): the port overload races the server start in WebApplicationFactory 10.
        node.UseKestrel(o => o.Listen(System.Net.IPAddress.Loopback, _ports[i]));
        node.StartServer();
        _nodes[i] = node;
        return node;
    }

    public async Task StopNodeAsync(int i)
    {
        if (_nodes[i] is { } node)
        {
            _nodes[i] = null;
            await node.DisposeAsync();
        }
    }

    public RealtimeFactory Node(int i) => _nodes[i] ?? throw new InvalidOperationException($"node {i} is stopped");

    public async Task PostAsync(string credential, Guid conversation, int count, string prefix = "m", int concurrency = 1)
    {
        var client = Client(credential);
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) <= count)
            {
                var response = await client.PostAsJsonAsync($"/v1/conversations/{conversation}/activities", Message($"{prefix}{n}"));
                Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            }
        }));
    }

    public override async Task DisposeAsync()
    {
        for (var i = 0; i < 2; i++)
        {
            await StopNodeAsync(i);
        }
        await base.DisposeAsync();
    }
}
