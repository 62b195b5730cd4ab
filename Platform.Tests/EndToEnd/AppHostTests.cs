using System.Net.Http.Headers;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Platform.Tests.Integration.Realtime;

namespace Platform.Tests.EndToEnd;

/// <summary>
/// The whole system as developers run it: Platform.AppHost under Aspire.Hosting.Testing (DCP starts PostgreSQL and
/// Redis from the machine's binaries, then every project), on free ports and a throwaway state directory.
/// </summary>
public sealed class AppHostFixture : IAsyncLifetime
{
    public const string OperatorKey = "op_apphost-test-operator-key-0123456789abcdef";
    public const string AdminPassword = "apphost-test-admin-password";
    private static readonly string[] Resources = ["postgres", "platformdb", "redis", "api", "realtime-0", "realtime-1", "worker", "admin"];

    private readonly string _state = Directory.CreateTempSubdirectory("platform-apphost-").FullName;
    public DistributedApplication App { get; private set; } = null!;
    public TimeSpan StartToHealthy { get; private set; }

    public async Task InitializeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        var started = System.Diagnostics.Stopwatch.StartNew();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Platform_AppHost>(
        [
            $"--Platform:StateDirectory={_state}",
            "--Platform:Infrastructure=executables",
            "--Platform:Seeds=false",
            "--Platform:WriteEnvironmentFile=false",
            $"--Platform:Ports:Postgres={LocalServers.FreePort()}",
            $"--Platform:Ports:Redis={LocalServers.FreePort()}",
            $"--Platform:Ports:Api={LocalServers.FreePort()}",
            $"--Platform:Ports:Realtime={LocalServers.FreePort()},{LocalServers.FreePort()}",
            $"--Platform:Ports:Worker={LocalServers.FreePort()}",
            $"--Platform:Ports:Admin={LocalServers.FreePort()}",
            // The operator key is "op_" + this parameter.
            $"--Parameters:operator-key={OperatorKey[3..]}",
            $"--Parameters:admin-password={AdminPassword}",
            "--Parameters:impact-master-key=apphost-test-impact-master-key",
            "--Parameters:postgres-password=apphostpg",
            "--Parameters:redis-password=apphostredis",
        ], (options, _) => options.DisableDashboard = true, cts.Token);
        App = await builder.BuildAsync(cts.Token);
        await App.StartAsync(cts.Token);
        foreach (var resource in Resources)
        {
            await App.ResourceNotifications.WaitForResourceHealthyAsync(resource, cts.Token);
        }
        StartToHealthy = started.Elapsed;
    }

    public HttpClient Client(string resource, string? bearer = null)
    {
        var client = App.CreateHttpClient(resource, "http");
        if (bearer is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }
        return client;
    }

    public async Task DisposeAsync()
    {
        if (App is not null)
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }
        try
        {
            Directory.Delete(_state, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // the server's account owns some of it; the temporary directory is cleaned by the system
        }
    }
}

public sealed class AppHostTests(AppHostFixture system) : IClassFixture<AppHostFixture>
{
    [Fact]
    public async Task Every_resource_is_healthy_and_the_api_reports_healthy()
    {
        var health = await system.Client("api").GetStringAsync("/health");
        Assert.Equal("Healthy", health);
        Assert.True(system.StartToHealthy < TimeSpan.FromMinutes(6));
    }

    [Fact]
    public async Task An_activity_posted_through_api_reaches_clients_on_both_realtime_nodes()
    {
        using var op = system.Client("api", AppHostFixture.OperatorKey);
        var tenant = await ReadAsync(await op.PostAsJsonAsync("/v1/tenants", new { name = "apphost" }));
        using var api = system.Client("api", tenant.GetProperty("apiKey").GetString());
        var channel = await ReadAsync(await api.PostAsJsonAsync("/v1/channels", new { name = "web" }));
        var conversation = await ReadAsync(await api.PostAsJsonAsync("/v1/conversations", new { channelId = channel.GetProperty("id").GetString() }));
        var id = conversation.GetProperty("id").GetString();

        // Tokens hand out the nodes round-robin: two tokens, two different nodes.
        var urls = new List<Uri>();
        var clients = new List<StreamClient>();
        for (var i = 0; i < 2; i++)
        {
            var issued = await ReadAsync(await api.PostAsJsonAsync($"/v1/conversations/{id}/tokens", new { userId = $"user{i}" }));
            var streamUrl = new Uri(issued.GetProperty("streamUrl").GetString()!);
            urls.Add(streamUrl);
            clients.Add(await StreamClient.ConnectAsync(new Uri($"http://{streamUrl.Authority}"), issued.GetProperty("token").GetString()!, watermark: null));
        }
        Assert.NotEqual(urls[0].Port, urls[1].Port);
        Assert.Contains(urls[0].Port, RealtimePorts());
        Assert.Contains(urls[1].Port, RealtimePorts());

        var posted = await api.PostAsJsonAsync($"/v1/conversations/{id}/activities",
            new { type = "message", from = new { id = "user0" }, text = "across the AppHost" });
        Assert.Equal(HttpStatusCode.Created, posted.StatusCode);

        foreach (var client in clients)
        {
            await Eventually.TrueAsync(() => Task.FromResult(client.Seqs.Contains(1)), TimeSpan.FromSeconds(60),
                $"the activity on every node's client (frames {client.Frames}, bytes {client.BytesReceived}, reader {client.ReaderState}, socket {client.SocketState}, ended {client.Ended}, close {client.CloseStatus} {client.CloseReason})");
            Assert.Equal("across the AppHost", client.Activities.Single().GetProperty("text").GetString());
            await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_canary_job_runs_through_the_worker()
    {
        using var op = system.Client("api", AppHostFixture.OperatorKey);
        var accepted = await op.PostAsJsonAsync("/v1/admin/jobs/canary", new { failTimes = 0 });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var location = accepted.Headers.Location!;

        var state = await Eventually.ReturnsAsync(async () =>
        {
            var job = await ReadAsync(await op.GetAsync(location));
            return job.GetProperty("state").GetString();
        }, s => s == "succeeded", TimeSpan.FromSeconds(60), "the canary job succeeded on the worker");
        Assert.Equal("succeeded", state);
    }

    [Fact]
    public async Task The_admin_sign_in_page_loads()
    {
        var page = await system.Client("admin").GetAsync("/signin");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("password", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("<form", html, StringComparison.OrdinalIgnoreCase);
    }

    private IEnumerable<int> RealtimePorts() =>
        system.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ProjectResource>()
            .Where(r => r.Name.StartsWith("realtime-", StringComparison.Ordinal))
            .Select(r => r.Annotations.OfType<EndpointAnnotation>().Single(e => e.Name == "http").Port!.Value);

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
