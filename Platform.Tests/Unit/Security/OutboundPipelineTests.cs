using System.Net.Sockets;
using Platform.Core.Security;

namespace Platform.Tests.Unit.Security;

/// <summary>A TCP listener on 127.0.0.1 that counts the connections it accepts: a refusal test asserts it got none.</summary>
public sealed class LoopbackListener : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private int _accepted;

    public LoopbackListener()
    {
        _listener.Start();
        _ = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int Accepted => Volatile.Read(ref _accepted);

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                using var client = await _listener.AcceptTcpClientAsync();
                Interlocked.Increment(ref _accepted);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }

    public void Dispose() => _listener.Stop();
}

/// <summary>The outbound pipeline against a loopback listener only: refused names never reach it, allowed ones do.</summary>
public sealed class OutboundPipelineTests
{
    [Theory]
    [InlineData("localhost")]
    [InlineData("[::ffff:127.0.0.1]")]
    public async Task A_name_or_address_that_reaches_loopback_is_refused_before_any_connection(string host)
    {
        using var listener = new LoopbackListener();
        using var client = OutboundHttp.CreateClient(new OutboundOptions { AllowedHosts = ["127.0.0.1"] }, followRedirects: true, TimeSpan.FromSeconds(5));
        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync($"http://{host}:{listener.Port}/"));
        Assert.NotNull(OutboundHttp.Refusal(ex));
        Assert.StartsWith("refused:", OutboundHttp.Refusal(ex)!.Message);
        Assert.Equal(0, listener.Accepted);
    }

    [Fact]
    public async Task An_allowed_host_is_connected_so_the_listener_can_tell()
    {
        using var listener = new LoopbackListener();
        using var client = OutboundHttp.CreateClient(new OutboundOptions { AllowedHosts = ["127.0.0.1"] }, followRedirects: true, TimeSpan.FromSeconds(2));
        // The listener closes without answering; what matters is that the connection reached it.
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync($"http://127.0.0.1:{listener.Port}/"));
        await Eventually.TrueAsync(() => Task.FromResult(listener.Accepted >= 1), TimeSpan.FromSeconds(5), "the allowed connection arrives");
    }

    [Fact]
    public async Task A_redirect_from_an_allowed_host_to_loopback_is_refused_on_the_hop()
    {
        using var listener = new LoopbackListener();
        await using var redirector = await StubServer.StartAsync(app =>
            Microsoft.AspNetCore.Builder.EndpointRouteBuilderExtensions.MapGet(app, "/feed",
                () => Microsoft.AspNetCore.Http.Results.Redirect($"http://localhost:{listener.Port}/internal")));
        using var client = OutboundHttp.CreateClient(new OutboundOptions { AllowedHosts = ["127.0.0.1"] }, followRedirects: true, TimeSpan.FromSeconds(5));
        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(new Uri(redirector.BaseAddress, "/feed")));
        Assert.NotNull(OutboundHttp.Refusal(ex));
        Assert.Equal(0, listener.Accepted);
    }

    [Fact]
    public async Task A_body_over_the_cap_is_refused_and_one_under_it_is_read()
    {
        await using var server = await StubServer.StartAsync(app =>
            Microsoft.AspNetCore.Builder.EndpointRouteBuilderExtensions.MapGet(app, "/big", async (Microsoft.AspNetCore.Http.HttpContext ctx) =>
            {
                // Chunked, no Content-Length: the cap must hold while reading, not only on the header.
                for (var i = 0; i < 64; i++)
                {
                    await ctx.Response.Body.WriteAsync(new byte[1024]);
                    await ctx.Response.Body.FlushAsync();
                }
            }));
        using var client = OutboundHttp.CreateClient(new OutboundOptions { AllowedHosts = ["127.0.0.1"] }, followRedirects: false, TimeSpan.FromSeconds(5));
        using var response = await client.GetAsync(new Uri(server.BaseAddress, "/big"), HttpCompletionOption.ResponseHeadersRead);
        await Assert.ThrowsAsync<OutboundRefusedException>(() => OutboundHttp.ReadCappedAsync(response.Content, 16 * 1024, CancellationToken.None));
        using var again = await client.GetAsync(new Uri(server.BaseAddress, "/big"), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(64 * 1024, (await OutboundHttp.ReadCappedAsync(again.Content, 64 * 1024, CancellationToken.None)).Length);
    }
}
