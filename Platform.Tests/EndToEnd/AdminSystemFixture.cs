using Microsoft.Playwright;

namespace Platform.Tests.EndToEnd;

/// <summary>
/// A running system for the Admin panel's browser tests: a fresh database, Api and Worker on it, and Admin on a
/// real loopback port talking to Api over HTTP (service discovery points <c>http://api</c> at Api's real port),
/// plus one headless Chromium. Each test opens its own browser context (its own cookies).
/// </summary>
public sealed class AdminSystemFixture : IAsyncLifetime
{
    public const string Password = "correct horse battery staple";

    public string Database { get; private set; } = "";
    public ApiFactory Api { get; private set; } = null!;
    public WorkerFactory Worker { get; private set; } = null!;
    public AdminFactory Admin { get; private set; } = null!;
    public Uri ApiAddress { get; private set; } = null!;
    public Uri AdminAddress { get; private set; } = null!;
    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;

    /// <summary>An HttpClient for Api with the operator key, for arranging data the way a client would.</summary>
    public HttpClient OperatorClient { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Database = await TestEnvironment.CreateDatabaseAsync(nameof(AdminSystemFixture));
        var redis = await TestEnvironment.RedisAsync();

        var apiPort = LocalServers.FreePort();
        var apiSettings = WithImpactKey(TestSettings.For(Database, redis));
        // The tenants' issuers are on, so the users-and-roles page has people who signed up.
        apiSettings["Platform:Jwt:Keys:0:Id"] = "admin-test";
        apiSettings["Platform:Jwt:Keys:0:PrivateKey"] = Platform.Core.Security.ClientTokens.GenerateKeyPair().PrivatePem;
        Api = new ApiFactory(apiSettings);
        Api.UseKestrel(o => o.Listen(IPAddress.Loopback, apiPort));
        Api.StartServer();
        ApiAddress = new Uri($"http://127.0.0.1:{apiPort}");

        var workerPort = LocalServers.FreePort();
        Worker = new WorkerFactory(WithImpactKey(TestSettings.For(Database, redis)));
        Worker.UseKestrel(o => o.Listen(IPAddress.Loopback, workerPort));
        Worker.StartServer();

        var adminPort = LocalServers.FreePort();
        var adminSettings = TestSettings.For(Database, redis);
        adminSettings["services:api:http:0"] = ApiAddress.ToString();
        adminSettings["services:worker:http:0"] = $"http://127.0.0.1:{workerPort}"; // probed for the overview's health cards
        adminSettings["Admin:Password"] = Password;
        Admin = new AdminFactory(adminSettings);
        Admin.UseKestrel(o => o.Listen(IPAddress.Loopback, adminPort));
        Admin.StartServer();
        AdminAddress = new Uri($"http://127.0.0.1:{adminPort}");

        OperatorClient = new HttpClient { BaseAddress = ApiAddress };
        OperatorClient.DefaultRequestHeaders.Authorization = new("Bearer", TestSettings.OperatorKey);
        await Eventually.TrueAsync(async () => (await OperatorClient.GetAsync("/health")).IsSuccessStatusCode, TimeSpan.FromSeconds(60), "Api healthy");

        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        // Two cores shared with the whole system under test: an answer through the circuit may take a few seconds.
        Assertions.SetDefaultExpectTimeout(15_000);
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync"],
        });
    }

    /// <summary>The PII vault's master key, so impact texts can be imported, flagged and scored (safety flags page).</summary>
    private static Dictionary<string, string?> WithImpactKey(Dictionary<string, string?> settings)
    {
        settings["Platform:Impact:MasterKey"] = Integration.Impact.ImpactFixture.MasterKey;
        return settings;
    }

    /// <summary>A fresh browser context on the Admin address; screenshots go to Platform.Tests/artifacts.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = AdminAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 1360, Height = 860 },
        });
        context.SetDefaultTimeout(20_000);
        return await context.NewPageAsync();
    }

    public async Task<IPage> SignedInPageAsync()
    {
        var page = await NewPageAsync();
        await page.GotoAsync("/signin");
        await page.GetByLabel("Password").FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Overview" })).ToBeVisibleAsync();
        // The overview says "Live" once its circuit runs. Tests navigate from here by clicking links: before the circuit
        // is up, a click is an enhanced navigation that the starting circuit can then paint over with the page it began on.
        await Assertions.Expect(page.Locator("[data-live-status]")).ToContainTextAsync("Live");
        return page;
    }

    public static async Task ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(ArtifactsDirectory);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ArtifactsDirectory, name + ".png"), FullPage = true });
    }

    public static string ArtifactsDirectory
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Platform.sln")))
            {
                dir = dir.Parent;
            }
            return Path.Combine(dir?.FullName ?? AppContext.BaseDirectory, "Platform.Tests", "artifacts");
        }
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        Playwright?.Dispose();
        OperatorClient?.Dispose();
        if (Admin is not null) await Admin.DisposeAsync();
        if (Worker is not null) await Worker.DisposeAsync();
        if (Api is not null) await Api.DisposeAsync();
    }
}

public static class AdminPages
{
    /// <summary>
    /// Loads an operator page and waits until its circuit runs. A full load first paints the prerendered page; a click
    /// made before the circuit starts is an enhanced navigation that the starting circuit then paints over with the
    /// page it began on, so a test that clicks right after loading would wait for a page that never comes.
    /// </summary>
    public static async Task OpenLiveAsync(this IPage page, string path)
    {
        await page.GotoAsync(path);
        await Assertions.Expect(page.Locator("main[data-circuit=live]")).ToBeAttachedAsync();
    }
}
