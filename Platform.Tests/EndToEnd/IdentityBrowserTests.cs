using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Playwright;
using Platform.Core.Security;
using Platform.Tests.Integration.Identity;
using static Microsoft.Playwright.Assertions;

namespace Platform.Tests.EndToEnd;

/// <summary>
/// Api on a real loopback port with an ES256 key, the real Worker sending e-mail to an SMTP server on loopback, and one
/// headless Chromium.
/// </summary>
public sealed class IdentityBrowserFixture : IAsyncLifetime
{
    public ApiFactory Api { get; private set; } = null!;
    public LocalSmtp Smtp { get; private set; } = null!;
    public Integration.Jobs.JobWorkerHost Worker { get; private set; } = null!;
    public Uri ApiAddress { get; private set; } = null!;
    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var database = await TestEnvironment.CreateDatabaseAsync(nameof(IdentityBrowserFixture));
        var redis = await TestEnvironment.RedisAsync();
        var settings = TestSettings.For(database, redis);
        // The upstream OpenID provider of the federation test listens on 127.0.0.1 over http.
        settings["Platform:Outbound:AllowedHosts:0"] = "127.0.0.1";
        settings["Platform:Jwt:Keys:0:Id"] = "browser";
        settings["Platform:Jwt:Keys:0:PrivateKey"] = ClientTokens.GenerateKeyPair().PrivatePem;
        var port = LocalServers.FreePort();
        Api = new ApiFactory(settings);
        Api.UseKestrel(o => o.Listen(IPAddress.Loopback, port));
        Api.StartServer();
        ApiAddress = new Uri($"http://127.0.0.1:{port}");
        using var probe = new HttpClient { BaseAddress = ApiAddress };
        await Eventually.TrueAsync(async () => (await probe.GetAsync("/health")).IsSuccessStatusCode, TimeSpan.FromSeconds(60), "Api healthy");
        Smtp = await LocalSmtp.StartAsync();
        var worker = Integration.Jobs.FastJobSettings.For(database, redis, "identity-browser-worker");
        worker["ConnectionStrings:smtp"] = $"Endpoint=smtp://127.0.0.1:{Smtp.Port};Username={LocalSmtp.Login};Password={LocalSmtp.Password};Security=StartTls";
        worker["Platform:Notifications:Email:From"] = "signin@mail.example.org";
        worker["Platform:Notifications:Email:PublicBaseUrl"] = "https://api.example.org";
        worker["Platform:Notifications:Email:UnsubscribeKey"] = "identity-browser-unsubscribe-key";
        worker["Platform:Notifications:Email:ServerCertificateSha256"] = Smtp.CertificateSha256;
        Worker = new Integration.Jobs.JobWorkerHost(worker).Start();
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync"],
        });
    }

    public HttpClient Client(string? bearer = null)
    {
        var client = new HttpClient { BaseAddress = ApiAddress };
        if (bearer is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }
        return client;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        Playwright?.Dispose();
        if (Worker is not null)
        {
            await Worker.DisposeAsync();
        }
        if (Api is not null)
        {
            await Api.DisposeAsync();
        }
        if (Smtp is not null)
        {
            await Smtp.DisposeAsync();
        }
    }

    /// <summary>A tenant with a branded issuer and a client app (a real server on loopback recording what it is sent back).</summary>
    public async Task<BrowserTenant> TenantWithAppAsync(string name, string displayName)
    {
        var created = await Client(TestSettings.OperatorKey).PostAsJsonAsync("/v1/tenants", new { name });
        var tenant = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
        var apiKey = tenant.GetProperty("apiKey").GetString()!;
        var branding = await Client(apiKey).PutAsJsonAsync("/v1/identity/branding", new { displayName, primaryColor = "#005a32" });
        Assert.Equal(HttpStatusCode.NoContent, branding.StatusCode);
        var callbacks = new System.Collections.Concurrent.ConcurrentQueue<Uri>();
        var app = await StubServer.StartAsync(a =>
        {
            IResult Record(HttpContext http)
            {
                callbacks.Enqueue(new Uri(Microsoft.AspNetCore.Http.Extensions.UriHelper.GetDisplayUrl(http.Request)));
                return Results.Content("<!DOCTYPE html><html lang=\"en\"><title>App</title><p>back in the app</p></html>", "text/html");
            }
            a.MapGet("/callback", Record);
            a.MapGet("/signed-out", Record);
        });
        var redirectUri = new Uri(app.BaseAddress, "/callback").ToString();
        var registered = await Client(apiKey).PostAsJsonAsync("/v1/identity/clients", new
        {
            displayName = displayName + " app", redirectUris = new[] { redirectUri },
            postLogoutRedirectUris = new[] { new Uri(app.BaseAddress, "/signed-out").ToString() },
        });
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var clientId = JsonDocument.Parse(await registered.Content.ReadAsStringAsync()).RootElement.GetProperty("clientId").GetString()!;
        return new BrowserTenant(this, tenant.GetProperty("id").GetGuid(), apiKey, clientId, app, callbacks);
    }

    /// <summary>Where a test's screenshots go (looked at by the engineer; not part of the assertions).</summary>
    public static string Screenshot(string name) =>
        Path.Combine(Path.GetTempPath(), "platform-identity-screens", name + ".png");
}

/// <summary>A tenant of the browser tests and its client app.</summary>
public sealed record BrowserTenant(IdentityBrowserFixture Fx, Guid Id, string ApiKey, string ClientId, StubServer App,
    System.Collections.Concurrent.ConcurrentQueue<Uri> Callbacks) : IAsyncDisposable
{
    public string RedirectUri => new Uri(App.BaseAddress, "/callback").ToString();
    public string PostLogoutUri => new Uri(App.BaseAddress, "/signed-out").ToString();

    /// <summary>Waits for the app to receive its n-th callback and returns it.</summary>
    public async Task<Uri> CallbackAsync(int n, IPage page)
    {
        try
        {
            await Eventually.TrueAsync(() => Task.FromResult(Callbacks.Count >= n), TimeSpan.FromSeconds(20), $"the app receives callback {n}");
        }
        catch (TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"The app got no callback {n}; the browser is at {page.Url}:\n{await page.ContentAsync()}");
        }
        return Callbacks.ElementAt(n - 1);
    }

    /// <summary>Redeems the code the app received (with the PKCE verifier) for the tokens.</summary>
    public async Task<JsonElement> TokensAsync(Uri callback, string verifier)
    {
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(callback.Query);
        var token = await Fx.Client().PostAsync($"/t/{Id}/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = query["code"].ToString(), ["redirect_uri"] = RedirectUri,
            ["client_id"] = ClientId, ["code_verifier"] = verifier,
        }));
        var body = await token.Content.ReadAsStringAsync();
        Assert.True(token.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public ValueTask DisposeAsync() => App.DisposeAsync();
}

/// <summary>
/// A resident in Chromium: registers on the tenant's branded page, signs in, the app gets a code (PKCE) and calls the
/// Api with the token; signing out kills the token. The client app is a small server on loopback.
/// </summary>
public sealed class IdentityBrowserTests(IdentityBrowserFixture fx) : IClassFixture<IdentityBrowserFixture>
{
    [Fact]
    public async Task Register_sign_in_code_flow_call_the_api_sign_out_and_the_token_is_refused()
    {
        var created = await fx.Client(TestSettings.OperatorKey).PostAsJsonAsync("/v1/tenants", new { name = "Springfield" });
        var tenant = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
        var tenantId = tenant.GetProperty("id").GetGuid();
        var apiKey = tenant.GetProperty("apiKey").GetString()!;
        var branding = await fx.Client(apiKey).PutAsJsonAsync("/v1/identity/branding", new { displayName = "City of Springfield", primaryColor = "#005a32" });
        Assert.Equal(HttpStatusCode.NoContent, branding.StatusCode);
        // The client app: a real server on loopback that records what the issuer sends back to it.
        var callbacks = new System.Collections.Concurrent.ConcurrentQueue<Uri>();
        await using var app = await StubServer.StartAsync(a =>
        {
            IResult Record(HttpContext http)
            {
                callbacks.Enqueue(new Uri(Microsoft.AspNetCore.Http.Extensions.UriHelper.GetDisplayUrl(http.Request)));
                return Results.Content("<!DOCTYPE html><html lang=\"en\"><title>App</title><p>back in the app</p></html>", "text/html");
            }
            a.MapGet("/callback", Record);
            a.MapGet("/signed-out", Record);
        });
        var redirectUri = new Uri(app.BaseAddress, "/callback").ToString();
        var postLogoutUri = new Uri(app.BaseAddress, "/signed-out").ToString();
        var registered = await fx.Client(apiKey).PostAsJsonAsync("/v1/identity/clients", new
        {
            displayName = "Springfield app", redirectUris = new[] { redirectUri }, postLogoutRedirectUris = new[] { postLogoutUri },
        });
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var clientId = JsonDocument.Parse(await registered.Content.ReadAsStringAsync()).RootElement.GetProperty("clientId").GetString()!;

        await using var context = await fx.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = fx.ApiAddress.ToString() });
        context.SetDefaultTimeout(20_000);
        var page = await context.NewPageAsync();
        var (verifier, challenge) = IdentityFixture.Pkce();
        await page.GotoAsync(IdentityFixture.AuthorizeUrl(tenantId, clientId, challenge, redirectUri: redirectUri));
        await Expect(page).ToHaveTitleAsync("Sign in – City of Springfield");
        Assert.Equal("en", await page.Locator("html").GetAttributeAsync("lang"));
        await page.GetByRole(AriaRole.Link, new() { Name = "Create an account" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Create an account" })).ToBeVisibleAsync();
        await page.GetByLabel("E-mail address").FillAsync("marge@example.org");
        await page.GetByLabel("Password").FillAsync("short");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create an account" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("at least 10 characters");
        await page.GetByLabel("Password").FillAsync("blue hair is a lifestyle");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create an account" }).ClickAsync();

        try
        {
            await Eventually.TrueAsync(() => Task.FromResult(callbacks.Count == 1), TimeSpan.FromSeconds(20), "the app receives the code");
        }
        catch (TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"The app got no code; the browser is at {page.Url}:\n{await page.ContentAsync()}");
        }
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(callbacks.First().Query);
        var token = await fx.Client().PostAsync($"/t/{tenantId}/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = query["code"].ToString(), ["redirect_uri"] = redirectUri,
            ["client_id"] = clientId, ["code_verifier"] = verifier,
        }));
        Assert.True(token.IsSuccessStatusCode, await token.Content.ReadAsStringAsync());
        var access = JsonDocument.Parse(await token.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await fx.Client(access).GetAsync("/v1/me/notification-preferences")).StatusCode);

        await page.GotoAsync($"/t/{tenantId}/connect/endsession?client_id={clientId}&post_logout_redirect_uri={Uri.EscapeDataString(postLogoutUri)}");
        await Eventually.TrueAsync(() => Task.FromResult(callbacks.Count == 2), TimeSpan.FromSeconds(20), "the app receives the sign-out");
        Assert.Equal("/signed-out", callbacks.Last().AbsolutePath);
        Assert.Equal(HttpStatusCode.Unauthorized, (await fx.Client(access).GetAsync("/v1/me/notification-preferences")).StatusCode);

        // Signed out in the browser too: the next sign-in asks for the password again.
        var (_, challenge2) = IdentityFixture.Pkce();
        await page.GotoAsync(IdentityFixture.AuthorizeUrl(tenantId, clientId, challenge2, redirectUri: redirectUri));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
    }
}
