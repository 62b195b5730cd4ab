extern alias ApiHost;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

using ApiHost::Platform.Api.Apis;

namespace Platform.Tests.Integration;

public sealed class ServiceDiscoveryTests
{
    private static async Task<(StubServer Server, Func<string, int> Calls)> StartApiStub()
    {
        var calls = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var server = await StubServer.StartAsync(app =>
        {
            app.MapGet("/flaky", (HttpContext ctx) =>
            {
                var n = calls.AddOrUpdate("flaky", 1, (_, c) => c + 1);
                if (n <= 2)
                {
                    ctx.Response.Headers.RetryAfter = "0";
                    return Results.StatusCode(503);
                }
                return Results.Text("ok");
            });
            app.MapPost("/create", () =>
            {
                calls.AddOrUpdate("create", 1, (_, c) => c + 1);
                return Results.StatusCode(503);
            });
            app.MapGet("/bad", () =>
            {
                calls.AddOrUpdate("bad", 1, (_, c) => c + 1);
                return Results.BadRequest();
            });
        });
        return (server, key => calls.GetValueOrDefault(key));
    }

    private static IHost ClientHost(Uri apiAddress)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["services:api:http:0"] = apiAddress.ToString(),
        });
        builder.AddServiceDefaults();
        return builder.Build();
    }

    [Fact]
    public async Task Logical_address_resolves_through_configuration_and_503_is_retried()
    {
        var (server, calls) = await StartApiStub();
        await using var _ = server;
        using var host = ClientHost(server.BaseAddress);
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient();

        var response = await client.GetAsync("http://api/flaky");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
        Assert.Equal(3, calls("flaky")); // two 503s (Retry-After: 0 honoured), then success
    }

    [Fact]
    public async Task A_400_is_not_retried()
    {
        var (server, calls) = await StartApiStub();
        await using var _ = server;
        using var host = ClientHost(server.BaseAddress);
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient();

        var response = await client.GetAsync("http://api/bad");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(1, calls("bad"));
    }

    [Fact]
    public async Task A_failed_post_is_not_retried_so_a_create_never_runs_twice()
    {
        var (server, calls) = await StartApiStub();
        await using var _ = server;
        using var host = ClientHost(server.BaseAddress);
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient();

        var response = await client.PostAsync("http://api/create", new StringContent("{}"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, calls("create"));
    }

    [Fact]
    public async Task Realtime_nodes_come_from_service_discovery_round_robin_and_https_is_preferred()
    {
        static RealtimeNodes Nodes(Dictionary<string, string?> services)
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Configuration.AddInMemoryCollection(services);
            builder.AddServiceDefaults();
            var host = builder.Build();
            return new RealtimeNodes(host.Services.GetRequiredService<Microsoft.Extensions.ServiceDiscovery.ServiceEndpointResolver>());
        }

        var plain = Nodes(new()
        {
            ["services:realtime:http:0"] = "http://127.0.0.1:7090",
            ["services:realtime:http:1"] = "http://127.0.0.1:7091",
        });
        var first = await plain.NextStreamUrlAsync("t", CancellationToken.None);
        var second = await plain.NextStreamUrlAsync("t", CancellationToken.None);
        var third = await plain.NextStreamUrlAsync("t", CancellationToken.None);
        Assert.Equal(["ws://127.0.0.1:7090/v1/stream?token=t", "ws://127.0.0.1:7091/v1/stream?token=t"], new[] { first, second }.Order());
        Assert.NotEqual(first, second);
        Assert.Equal(first, third);

        var secure = Nodes(new()
        {
            ["services:realtime:https:0"] = "https://127.0.0.1:7443",
            ["services:realtime:http:0"] = "http://127.0.0.1:7090",
        });
        Assert.Equal("wss://127.0.0.1:7443/v1/stream?token=t", await secure.NextStreamUrlAsync("t", CancellationToken.None));

        Assert.Null(await Nodes([]).NextStreamUrlAsync("t", CancellationToken.None));
    }
}
