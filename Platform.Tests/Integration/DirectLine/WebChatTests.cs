using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;

namespace Platform.Tests.Integration.DirectLine;

/// <summary>
/// Bot Framework Web Chat (the npm bundle, unchanged) in headless Chromium against Platform: a page served by
/// the test on another origin (so CORS is exercised), a Direct Line token from tokens/generate.
/// </summary>
public sealed class WebChatTests(DirectLineFixture fx) : IClassFixture<DirectLineFixture>
{
    private const string Typed = "hello from web chat";
    private const string FromBot = "native hello from the bot";

    [Fact]
    public async Task Web_Chat_sends_sees_its_message_sent_and_shows_a_native_activity()
    {
        await NodeScripts.EnsureInstalledAsync();
        var world = await fx.CreateWorldAsync("webchat");
        var generated = await ConversationsFixtureJson(await fx.Http(world.Channel.Secret)
            .PostAsJsonAsync("/v3/directline/tokens/generate", new { user = new { id = "web-user", name = "Web User" } }));
        var token = generated.GetProperty("token").GetString()!;
        var conversationId = Guid.Parse(generated.GetProperty("conversationId").GetString()!);

        var bundle = Path.Combine(NodeScripts.Directory, "node_modules", "botframework-webchat", "dist", "webchat.js");
        await using var page = await StubServer.StartAsync(app =>
        {
            app.MapGet("/webchat.js", () => Results.File(bundle, "text/javascript"));
            app.MapGet("/", () => Results.Content(Page(fx.Domain, token), "text/html"));
        });
        // Only the page's origin may use this channel from a browser.
        await fx.SetAllowedOriginsAsync(world.Channel.Id, page.BaseAddress.GetLeftPart(UriPartial.Authority));

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"],
        });
        var tab = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 520, Height = 720 } });
        var console = new List<string>();
        tab.Console += (_, m) => console.Add($"{m.Type}: {m.Text}");
        tab.PageError += (_, e) => console.Add("pageerror: " + e);
        await tab.GotoAsync(page.BaseAddress.ToString());

        try
        {
            var input = tab.Locator("[data-id='webchat-sendbox-input']");
            await input.WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
            await tab.WaitForFunctionAsync("() => window.connected === true", null, new PageWaitForFunctionOptions { Timeout = 30_000 });
            await input.FillAsync(Typed);
            await input.PressAsync("Enter");

            // Sent = the echo came back over the stream: Web Chat marks it sent, with the server's id.
            await tab.WaitForFunctionAsync($$"""
                () => window.store.getState().activities.some(a => a.text === '{{Typed}}' && a.id &&
                    ((a.channelData || {})['webchat:send-status'] === 'sent' || (a.channelData || {}).state === 'sent'))
                """, null, new PageWaitForFunctionOptions { Timeout = 30_000 });

            await fx.PostAsync(world.Tenant.ApiKey, conversationId, 1, prefix: FromBot);
            await tab.GetByText(FromBot + "1", new PageGetByTextOptions { Exact = true }).First.WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
            await tab.GetByText(Typed, new PageGetByTextOptions { Exact = true }).First.WaitForAsync();
            Assert.Equal(0, await tab.GetByText("Send failed").CountAsync());

            var sent = JsonDocument.Parse(await tab.EvaluateAsync<string>(
                "() => JSON.stringify(window.store.getState().activities.filter(a => a.type === 'message').map(a => ({ id: a.id, text: a.text, from: a.from, seq: (a.channelData || {})['webchat:sequence-id'] })))"))
                .RootElement;
            var texts = sent.EnumerateArray().Select(a => a.GetProperty("text").GetString()).ToList();
            Assert.Equal([Typed, FromBot + "1"], texts);
            Assert.Equal("web-user", sent[0].GetProperty("from").GetProperty("id").GetString());
            Assert.Equal(1, sent[0].GetProperty("seq").GetInt64());
        }
        finally
        {
            var artifacts = Path.Combine(NodeScripts.Directory, "..", "artifacts");
            Directory.CreateDirectory(artifacts);
            await tab.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(artifacts, "webchat-directline.png"), FullPage = true });
            await File.WriteAllLinesAsync(Path.Combine(artifacts, "webchat-directline.console.txt"), console);
        }
    }

    private static async Task<JsonElement> ConversationsFixtureJson(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private static string Page(string domain, string token) => $$"""
        <!DOCTYPE html>
        <html lang="en">
        <head><meta charset="utf-8"><title>Platform · Web Chat</title>
          <script src="/webchat.js"></script>
          <style>html, body, #webchat { height: 100%; margin: 0; }</style>
        </head>
        <body>
          <div id="webchat" role="main"></div>
          <script>
            window.connected = false;
            window.store = window.WebChat.createStore({}, () => next => action => {
              if (action.type === 'DIRECT_LINE/CONNECT_FULFILLED') { window.connected = true; }
              return next(action);
            });
            const directLine = window.WebChat.createDirectLine({ domain: {{JsonSerializer.Serialize(domain)}}, token: {{JsonSerializer.Serialize(token)}} });
            window.WebChat.renderWebChat({ directLine, store: window.store }, document.getElementById('webchat'));
          </script>
        </body>
        </html>
        """;
}
