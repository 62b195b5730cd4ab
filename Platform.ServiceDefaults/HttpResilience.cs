using System.Net;
using Microsoft.Extensions.Http;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// The standard HttpClient resilience handler of Microsoft.Extensions.Http.Resilience rebuilt on Polly.Core
/// (that package does not restore here), with the same defaults, outermost first: total timeout 30 s,
/// 3 retries (idempotent methods only) with jittered exponential backoff (2 s base) honouring Retry-After, a circuit breaker
/// (10 % failures over 30 s, at least 100 requests, 5 s break) and a 10 s timeout per attempt.
/// </summary>
public static class HttpResilienceExtensions
{
    public static IHttpClientBuilder AddStandardResilienceHandler(this IHttpClientBuilder builder, Action<HttpResilienceOptions>? configure = null)
    {
        var options = new HttpResilienceOptions();
        configure?.Invoke(options);
        var pipeline = HttpResilienceOptions.Build(options, retry: true);
        var unsafePipeline = options.RetryUnsafeMethods ? pipeline : HttpResilienceOptions.Build(options, retry: false);
        return builder.AddHttpMessageHandler(() => new ResilienceHandler(pipeline, unsafePipeline));
    }
}

public sealed class HttpResilienceOptions
{
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);
    public int MaxRetryAttempts { get; set; } = 3;
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(2);
    public double BreakerFailureRatio { get; set; } = 0.1;
    public int BreakerMinimumThroughput { get; set; } = 100;
    public TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Whether POST and PATCH are retried too. Off by default (like the original's DisableForUnsafeHttpMethods):
    /// a create whose answer was lost must not run twice.
    /// </summary>
    public bool RetryUnsafeMethods { get; set; }

    /// <summary>Transient outcomes: 5xx, 408, 429, network errors and attempt timeouts.</summary>
    public static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        { Result: { } r } => (int)r.StatusCode >= 500 || r.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests,
        _ => false,
    };

    internal static ResiliencePipeline<HttpResponseMessage> Build(HttpResilienceOptions o, bool retry)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>().AddTimeout(o.TotalTimeout);
        if (retry)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = o.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = o.RetryBaseDelay,
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result)),
                OnRetry = args =>
                {
                    // The failed response is not returned to anyone; release its connection.
                    args.Outcome.Result?.Dispose();
                    return ValueTask.CompletedTask;
                },
            });
        }
        return builder
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                FailureRatio = o.BreakerFailureRatio,
                MinimumThroughput = o.BreakerMinimumThroughput,
                SamplingDuration = o.BreakerSamplingDuration,
                BreakDuration = o.BreakDuration,
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
            })
            .AddTimeout(o.AttemptTimeout)
            .Build();
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage? response)
    {
        var header = response?.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }
        if (header?.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }
        return null; // use the backoff
    }
}

internal sealed class ResilienceHandler(ResiliencePipeline<HttpResponseMessage> pipeline, ResiliencePipeline<HttpResponseMessage> unsafePipeline)
    : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Content is not null)
        {
            // A retried request must be able to send its body again.
            await request.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
        }
        var chosen = request.Method == HttpMethod.Post || request.Method == HttpMethod.Patch ? unsafePipeline : pipeline;
        return await chosen.ExecuteAsync(
            static async (state, ct) => await state.Handler.BaseSendAsync(state.Request, ct).ConfigureAwait(false),
            (Handler: this, Request: request),
            cancellationToken).ConfigureAwait(false);
    }

    private Task<HttpResponseMessage> BaseSendAsync(HttpRequestMessage request, CancellationToken ct) => base.SendAsync(request, ct);
}
