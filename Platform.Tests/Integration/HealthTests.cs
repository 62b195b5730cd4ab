namespace Platform.Tests.Integration;

/// <summary>Readiness follows PostgreSQL and Redis without a restart; liveness does not.</summary>
public sealed class HealthTests : IAsyncLifetime
{
    private LocalPostgres _pg = null!;
    private LocalRedis _redis = null!;
    private ApiFactory _api = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        // Own servers: this test stops and restarts them, which must not disturb other test classes.
        _pg = await LocalPostgres.StartAsync();
        _redis = await LocalRedis.StartAsync();
        _api = new ApiFactory(TestSettings.For(_pg.ConnectionString("postgres"), _redis.ConnectionString));
        _client = _api.CreateClient();
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        await _pg.DisposeAsync();
        await _redis.DisposeAsync();
    }

    private async Task<HttpStatusCode> Status(string path) => (await _client.GetAsync(path)).StatusCode;

    private Task WaitFor(HttpStatusCode expected, string because) =>
        Eventually.ReturnsAsync(() => Status("/health"), s => s == expected, TimeSpan.FromSeconds(30), because);

    [Fact]
    public async Task Health_follows_postgres_and_redis_and_alive_stays_up()
    {
        await WaitFor(HttpStatusCode.OK, "healthy at start");
        var body = await _client.GetStringAsync("/health");
        Assert.Equal("Healthy", body); // the status word only, no internals

        await _redis.StopAsync();
        await WaitFor(HttpStatusCode.ServiceUnavailable, "unhealthy while Redis is down");
        Assert.Equal(HttpStatusCode.OK, await Status("/alive"));
        Assert.Equal("Unhealthy", await (await _client.GetAsync("/health")).Content.ReadAsStringAsync());

        await _redis.StartAgainAsync();
        await WaitFor(HttpStatusCode.OK, "healthy again after Redis returns");

        await _pg.StopAsync();
        await WaitFor(HttpStatusCode.ServiceUnavailable, "unhealthy while PostgreSQL is down");
        Assert.Equal(HttpStatusCode.OK, await Status("/alive"));

        await _pg.StartAgainAsync();
        await WaitFor(HttpStatusCode.OK, "healthy again after PostgreSQL returns");
    }
}
