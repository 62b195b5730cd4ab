extern alias AdminHost;

using System.Text.RegularExpressions;
using AdminPasswordHash = AdminHost::Platform.Admin.Access.AdminPasswordHash;

namespace Platform.Tests.Integration;

/// <summary>
/// The Admin panel's front door over real HTTP (Kestrel on loopback, so the peer address is real): the IP
/// allowlist answers before anything else, X-Forwarded-For counts only from trusted proxies, and repeated
/// wrong passwords lock the address out.
/// </summary>
public sealed partial class AdminAccessTests : IAsyncDisposable
{
    private readonly List<AdminFactory> _factories = [];

    private HttpClient StartAdmin(params (string Key, string Value)[] settings)
    {
        var all = new Dictionary<string, string?>
        {
            ["Platform:OperatorKey"] = TestSettings.OperatorKey,
            ["services:api:http:0"] = "http://127.0.0.1:9", // never reached by these tests
            ["Admin:Password"] = "the-password",
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }
        var port = LocalServers.FreePort();
        var admin = new AdminFactory(all);
        admin.UseKestrel(o => o.Listen(IPAddress.Loopback, port));
        admin.StartServer();
        _factories.Add(admin);
        return new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}"),
        };
    }

    [Fact]
    public async Task Request_from_outside_the_allowlist_gets_403_and_nothing_of_the_app()
    {
        using var client = StartAdmin(("Admin:AllowedNetworks:0", "203.0.113.0/24"));

        foreach (var path in new[] { "/", "/signin", "/tenants", "/health", "/app.css", "/_framework/blazor.web.js", "/_blazor/negotiate?negotiateVersion=1" })
        {
            var response = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal("", await response.Content.ReadAsStringAsync());
            Assert.False(response.Headers.Location is not null, "no redirect to sign-in");
        }
    }

    [Fact]
    public async Task Spoofed_forwarded_for_from_an_untrusted_peer_is_ignored()
    {
        // Allowlist excludes loopback; the header claims an allowed address, but loopback is not a trusted proxy.
        using var outside = StartAdmin(("Admin:AllowedNetworks:0", "203.0.113.0/24"));
        using var spoofed = new HttpRequestMessage(HttpMethod.Get, "/signin");
        spoofed.Headers.Add("X-Forwarded-For", "203.0.113.7");
        Assert.Equal(HttpStatusCode.Forbidden, (await outside.SendAsync(spoofed)).StatusCode);

        // Default allowlist (loopback): a forged header does not make a loopback client look external either.
        using var inside = StartAdmin();
        using var forged = new HttpRequestMessage(HttpMethod.Get, "/signin");
        forged.Headers.Add("X-Forwarded-For", "198.51.100.1");
        Assert.Equal(HttpStatusCode.OK, (await inside.SendAsync(forged)).StatusCode);
    }

    [Fact]
    public async Task Forwarded_for_from_a_trusted_proxy_decides()
    {
        using var client = StartAdmin(
            ("Admin:AllowedNetworks:0", "203.0.113.0/24"),
            ("Admin:TrustedProxies:0", "127.0.0.1/32"));

        using var allowed = new HttpRequestMessage(HttpMethod.Get, "/signin");
        allowed.Headers.Add("X-Forwarded-For", "198.51.100.9, 203.0.113.7"); // the proxy appended the real client last
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(allowed)).StatusCode);

        using var refused = new HttpRequestMessage(HttpMethod.Get, "/signin");
        refused.Headers.Add("X-Forwarded-For", "203.0.113.7, 198.51.100.9"); // a client-written left part does not count
        Assert.Equal(HttpStatusCode.Forbidden, (await client.SendAsync(refused)).StatusCode);
    }

    [Fact]
    public async Task Blazor_script_is_served_and_a_circuit_opens_only_for_a_signed_in_operator()
    {
        using var client = StartAdmin();
        var script = await client.GetAsync("/_framework/blazor.web.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.True((await script.Content.ReadAsByteArrayAsync()).Length > 10_000, "the real blazor.web.js, not an empty asset");

        // Anonymous: the circuit hub refuses before SignalR negotiates anything.
        var anonymous = await client.PostAsync("/_blazor/negotiate?negotiateVersion=1", null);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        Assert.Equal(HttpStatusCode.Redirect, (await SignInAsync(client, "the-password")).StatusCode);
        var signedIn = await client.PostAsync("/_blazor/negotiate?negotiateVersion=1", null);
        Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
        Assert.Contains("connectionToken", await signedIn.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Repeated_wrong_passwords_lock_the_address_out_even_for_the_right_one()
    {
        using var client = StartAdmin(("Admin:MaxFailures", "3"));

        for (var i = 0; i < 2; i++)
        {
            var wrong = await SignInAsync(client, "wrong");
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            Assert.Contains("Wrong password", await wrong.Content.ReadAsStringAsync());
        }
        var third = await SignInAsync(client, "wrong");
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);

        var right = await SignInAsync(client, "the-password");
        Assert.Equal(HttpStatusCode.TooManyRequests, right.StatusCode);
        Assert.Contains("Too many failed attempts", await right.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync("/tenants")).StatusCode); // still signed out
    }

    [Fact]
    public async Task Right_password_signs_in_and_sign_out_ends_the_session()
    {
        using var client = StartAdmin();
        var signedIn = await SignInAsync(client, "the-password");
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal("/", signedIn.Headers.Location?.AbsolutePath);

        var page = await client.GetStringAsync("/signin");
        var token = Token().Match(page).Groups[1].Value;
        var signedOut = await client.PostAsync("/signout", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token }));
        Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);
        var after = await client.GetAsync("/tenants");
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.Contains("/signin", after.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task A_password_hash_signs_in_without_the_panel_holding_the_password()
    {
        using var client = StartAdmin(("Admin:Password", ""), ("Admin:PasswordHash", AdminPasswordHash.Hash("hashed-secret", 1000)));
        Assert.Contains("Wrong password", await (await SignInAsync(client, "the-password")).Content.ReadAsStringAsync());
        var signedIn = await SignInAsync(client, "hashed-secret");
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal("/", signedIn.Headers.Location?.AbsolutePath);
        Assert.False(AdminPasswordHash.Verify("hashed-secret", "pbkdf2-sha256$1000$not base64$x"));
    }

    [Fact]
    public async Task The_session_cookie_is_secure_behind_a_trusted_tls_proxy_and_only_then()
    {
        using var trusted = StartAdmin(("Admin:TrustedProxies:0", "127.0.0.1/32"));
        var viaProxy = await SignInSetCookieAsync(trusted, "https");
        Assert.Contains("secure", viaProxy, StringComparison.OrdinalIgnoreCase);

        // The same header from a peer that is not a trusted proxy changes nothing: plain http, no Secure flag.
        using var untrusted = StartAdmin();
        var spoofed = await SignInSetCookieAsync(untrusted, "https");
        Assert.StartsWith("platform_admin=", spoofed, StringComparison.Ordinal);
        Assert.DoesNotContain("secure", spoofed, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Signs in with X-Forwarded-Proto set, carrying cookies by hand (a Secure cookie is not replayed over http); returns the session's Set-Cookie.</summary>
    private static async Task<string> SignInSetCookieAsync(HttpClient started, string forwardedProto)
    {
        using var raw = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = started.BaseAddress };
        using var get = new HttpRequestMessage(HttpMethod.Get, "/signin");
        get.Headers.Add("X-Forwarded-Proto", forwardedProto);
        var form = await raw.SendAsync(get);
        var cookies = form.Headers.TryGetValues("Set-Cookie", out var set) ? set.Select(c => c.Split(';')[0]).ToList() : [];
        var token = Token().Match(await form.Content.ReadAsStringAsync()).Groups[1].Value;
        using var post = new HttpRequestMessage(HttpMethod.Post, "/signin")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["_handler"] = "signin", ["__RequestVerificationToken"] = token, ["Input.Password"] = "the-password",
            }),
        };
        post.Headers.Add("X-Forwarded-Proto", forwardedProto);
        post.Headers.Add("Cookie", string.Join("; ", cookies));
        var signedIn = await raw.SendAsync(post);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        return signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("platform_admin=", StringComparison.Ordinal));
    }

    private static async Task<HttpResponseMessage> SignInAsync(HttpClient client, string password)
    {
        var form = await client.GetStringAsync("/signin");
        var token = Token().Match(form).Groups[1].Value;
        return await client.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "signin",
            ["__RequestVerificationToken"] = token,
            ["Input.Password"] = password,
        }));
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex Token();

    public async ValueTask DisposeAsync()
    {
        foreach (var f in _factories)
        {
            await f.DisposeAsync();
        }
    }
}
