using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Platform.Core.Tenancy;

namespace Platform.Api.Security;

/// <summary>Endpoint metadata: which per-tenant budget a call spends (default <see cref="RateCategory.Requests"/>).</summary>
public sealed record RateLimitedAs(RateCategory Category);

/// <summary>
/// Spends one unit of the caller's tenant budget per call, and of the end user's own budget for a client token
/// (Redis, shared by every Api replica; counted in-process while Redis is down). Runs after
/// authorization, so unauthenticated noise never eats a tenant's budget. Over the limit → 429 with
/// <c>Retry-After</c> in seconds until the window resets.
/// </summary>
public sealed class TenantRateLimitFilter(TenantRateLimiter limiter) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var caller = Caller.From(http.User);
        if (caller.TenantId != Guid.Empty)
        {
            var category = http.GetEndpoint()?.Metadata.GetMetadata<RateLimitedAs>()?.Category ?? RateCategory.Requests;
            // End users (client tokens) also spend their own budget, so one person cannot use up the tenant's.
            var user = caller.Kind is CallerKinds.Client or CallerKinds.User ? caller.UserId : null;
            var decision = await limiter.AcquireAsync(caller.TenantId, user, category);
            if (!decision.Allowed)
            {
                http.Response.Headers.RetryAfter = decision.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return TypedResults.Problem(new ProblemDetails
                {
                    Status = StatusCodes.Status429TooManyRequests,
                    Type = ProblemTypes.RateLimited,
                    Title = "Rate limit exceeded.",
                    Detail = $"{(decision.PerUser ? "This user" : "This tenant")} made more than {decision.Limit} {(category == RateCategory.Activities ? "activity posts" : "calls")} " +
                             $"in {limiter.Options.WindowSeconds} s. Retry after {decision.RetryAfterSeconds} s.",
                });
            }
        }
        return await next(context);
    }
}

/// <summary>Rate-limit policy of endpoints that accept a body without a credential: per client address, in memory.</summary>
public static class AnonymousLimits
{
    public const string PerIp = "anonymous-per-ip";
}
