using System.Globalization;
using Platform.Api.Security;
using Platform.Core.DirectLine;
using Platform.Core.Security;
using Platform.Core.Tenancy;

namespace Platform.Api.Apis;

/// <summary>
/// Runs before every Direct Line endpoint: authentication in Direct Line's terms (a channel secret or a token;
/// an expired token is 403 <c>TokenExpired</c>, which clients act on), the channel's allowed origins for browser
/// callers (CORS), then the tenant's rate budget (429 with <c>Retry-After</c> in seconds). Errors are
/// <c>{"error":{"code","message"}}</c> and carry the CORS headers, so a browser client can read them.
/// </summary>
public sealed partial class DirectLineFilter(ClientTokens tokens, DirectLineStore store, TenantRateLimiter limiter, ILogger<DirectLineFilter> logger)
    : IEndpointFilter
{
    public const string AllowedHeaders = "Authorization, Content-Type, Accept, x-ms-bot-agent, x-requested-with";
    private const string CallerKey = "directline:caller";

    public static Caller CallerOf(HttpContext context) => (Caller)context.Items[CallerKey]!;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var origin = http.Request.Headers.Origin.ToString();
        if (origin.Length > 0)
        {
            // Until the channel is known, answers (errors included) are readable by the caller's page.
            http.Response.Headers.AccessControlAllowOrigin = origin;
            http.Response.Headers.Vary = "Origin";
        }
        var caller = Caller.From(http.User);
        if (caller.Kind is not (CallerKinds.Channel or CallerKinds.Client))
        {
            return await RefuseAsync(http);
        }
        if (http.User.FindFirst(PlatformClaims.Inactive) is { } inactive)
        {
            return DirectLineApi.Error(StatusCodes.Status403Forbidden, "Forbidden", $"The {inactive.Value} is not active.");
        }
        if (origin.Length > 0 && caller.ChannelId is { } channel)
        {
            var allowed = await store.AllowedOriginsAsync(caller.TenantId, channel, http.RequestAborted);
            if (allowed.Length > 0 && !allowed.Contains(origin, StringComparer.OrdinalIgnoreCase))
            {
                LogOriginRefused(logger, origin, channel);
                http.Response.Headers.Remove("Access-Control-Allow-Origin");
                return DirectLineApi.Error(StatusCodes.Status403Forbidden, "Forbidden", $"Origin {origin} is not allowed for this channel.");
            }
        }
        var category = http.GetEndpoint()?.Metadata.GetMetadata<RateLimitedAs>()?.Category ?? RateCategory.Requests;
        var decision = await limiter.AcquireAsync(caller.TenantId, caller.IsClient ? caller.UserId : null, category);
        if (!decision.Allowed)
        {
            http.Response.Headers.RetryAfter = decision.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            http.Response.Headers.AccessControlExposeHeaders = "Retry-After";
            return DirectLineApi.Error(StatusCodes.Status429TooManyRequests, "TooManyRequests",
                $"Rate limit exceeded; retry after {decision.RetryAfterSeconds} s.");
        }
        http.Items[CallerKey] = caller;
        return await next(context);
    }

    /// <summary>Why the credential was not accepted: an expired token is 403 TokenExpired (clients then refresh or reconnect).</summary>
    private async Task<IResult> RefuseAsync(HttpContext http)
    {
        var bearer = BearerAuthenticationHandler.ReadBearer(http.Request);
        if (bearer is null)
        {
            return DirectLineApi.Error(StatusCodes.Status401Unauthorized, "Unauthorized", "Send Authorization: Bearer <secret or token>.");
        }
        if (http.User.Identity?.IsAuthenticated == true)
        {
            return DirectLineApi.Error(StatusCodes.Status403Forbidden, "Forbidden", "Use the channel secret or a Direct Line token.");
        }
        if (!bearer.StartsWith(Credentials.ChannelSecretPrefix, StringComparison.Ordinal) &&
            (await tokens.ValidateAsync(bearer)).Outcome == TokenValidationOutcome.Expired)
        {
            return DirectLineApi.Error(StatusCodes.Status403Forbidden, "TokenExpired", "The token has expired.");
        }
        return DirectLineApi.Error(StatusCodes.Status401Unauthorized, "Unauthorized", "Unknown secret or invalid token.");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Direct Line call from origin {Origin} refused: not allowed for channel {ChannelId}")]
    private static partial void LogOriginRefused(ILogger logger, string origin, Guid channelId);
}
