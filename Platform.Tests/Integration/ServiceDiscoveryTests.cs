using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

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
    public void Unknown_services_and_real_hosts_are_left_alone()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["services:api:https:0"] = "https://10.0.0.5:7443",
            ["services:api:http:0"] = "http://10.0.0.5:7080",
        }).Build();
        var resolver = new ServiceEndpointResolver(config);

        Assert.Equal(new Uri("http://10.0.0.5:7080/v1/x?y=1"), resolver.Rewrite(new Uri("http://api/v1/x?y=1")));
        Assert.Equal(new Uri("https://10.0.0.5:7443/v1/x"), resolver.Rewrite(new Uri("https+http://api/v1/x")));
        Assert.Equal(new Uri("http://other/v1"), resolver.Rewrite(new Uri("http://other/v1")));
        Assert.Equal(new Uri("http://example.com/v1"), resolver.Rewrite(new Uri("http://example.com/v1")));
    }
}
