using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Impact.Privacy;
using Platform.Core.Jobs;
using Platform.Core.Security;

namespace Platform.Core.Notifications;

/// <summary>
/// The outbound HTTP of push and webhook sends. Its own client, not the service defaults' resilient one: retries
/// belong to the job engine (logged per attempt, with backoff across minutes), not inside one attempt.
/// </summary>
public sealed class NotificationHttp : IDisposable
{
    private readonly HttpClient _client;

    public Vapid Vapid { get; }

    public NotificationHttp(IOptions<NotificationOptions> options, OutboundOptions outbound, ILogger<NotificationHttp> logger)
    {
        var o = options.Value;
        _outbound = outbound;
        // Endpoints are tenant- and user-controlled URLs: the outbound pipeline, no redirects (a 3xx is a failed delivery).
        _client = OutboundHttp.CreateClient(outbound, followRedirects: false, o.SendTimeout);
        var (publicKey, privateKey) = (o.Vapid.PublicKey, o.Vapid.PrivateKey);
        if (string.IsNullOrEmpty(publicKey) || string.IsNullOrEmpty(privateKey))
        {
            // Without configured keys push still works, but browsers subscribed with the old key must resubscribe after a restart.
            (publicKey, privateKey) = Vapid.GenerateKeys();
            NotificationLog.VapidGenerated(logger);
        }
        Vapid = new Vapid(publicKey, privateKey, o.Vapid.Subject);
    }

    private readonly OutboundOptions _outbound;

    /// <summary>
    /// The status code, or null with an error for a network failure or timeout. <c>Refused</c> when the outbound
    /// pipeline would not call the URL (not https, or not a public address): asking again will not help.
    /// The response body is never read.
    /// </summary>
    public async Task<(int? Status, string? Error, bool Refused)> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        if (OutboundHttp.WhyRefused(request.RequestUri!, _outbound, requireHttps: true) is { } why)
        {
            return (null, $"refused: {why}", true);
        }
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            return ((int)response.StatusCode, null, false);
        }
        catch (HttpRequestException ex) when (OutboundHttp.Refusal(ex) is { } refusal)
        {
            return (null, refusal.Message, true);
        }
        catch (HttpRequestException ex)
        {
            return (null, $"network: {ex.Message}", false);
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return (null, "timed out", false);
        }
    }

    public void Dispose()
    {
        _client.Dispose();
        Vapid.Dispose();
    }
}

internal static partial class NotificationLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Platform:Notifications:Vapid keys are not set; using a key pair generated for this process")]
    public static partial void VapidGenerated(ILogger logger);
}
