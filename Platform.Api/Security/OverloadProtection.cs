using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Npgsql;

namespace Platform.Api.Security;

/// <summary>
/// What one Api process takes on at most (<c>Platform:Overload</c>), so that clients retrying through an outage cannot
/// use up PostgreSQL's connections or pile up requests without end: a bounded connection pool with a short wait for a
/// connection, and a global concurrency limit with a short queue. Beyond either the answer is 503 with
/// <c>Retry-After</c>; nothing of such a request is stored.
/// </summary>
public sealed class OverloadOptions
{
    public const string Section = "Platform:Overload";

    /// <summary>
    /// Connections this Api process opens to PostgreSQL at most (Npgsql's <c>Maximum Pool Size</c>, replacing the
    /// connection string's). Keep the sum over every Api, Worker and Realtime process below the server's
    /// <c>max_connections</c> (100 by default) minus a few for operators.
    /// </summary>
    public int MaxPoolSize { get; set; } = 40;

    /// <summary>
    /// How long a request waits for a pooled connection (or for a new one to open) before it is answered 503
    /// (Npgsql's <c>Timeout</c>, whole seconds).
    /// </summary>
    public int ConnectionTimeoutSeconds { get; set; } = 5;

    /// <summary>Requests this process works on at once (health probes not counted).</summary>
    public int MaxConcurrentRequests { get; set; } = 200;

    /// <summary>Requests that wait for one of those places, oldest first; one more is answered 503 at once.</summary>
    public int QueueLimit { get; set; } = 200;

    /// <summary>The <c>Retry-After</c> (seconds) of an overload answer.</summary>
    public int RetryAfterSeconds { get; set; } = 2;

    public static OverloadOptions From(IConfiguration configuration)
    {
        var o = new OverloadOptions();
        configuration.GetSection(Section).Bind(o);
        if (o.MaxPoolSize < 1 || o.ConnectionTimeoutSeconds < 1 || o.MaxConcurrentRequests < 1 || o.QueueLimit < 0 || o.RetryAfterSeconds < 1)
        {
            throw new InvalidOperationException(
                $"{Section}: MaxPoolSize, ConnectionTimeoutSeconds, MaxConcurrentRequests and RetryAfterSeconds must be at least 1, QueueLimit at least 0.");
        }
        return o;
    }

    /// <summary>The Api's data source: the bounded pool and the short wait for a connection.</summary>
    public void Apply(NpgsqlDataSourceBuilder dataSource)
    {
        dataSource.ConnectionStringBuilder.MaxPoolSize = MaxPoolSize;
        dataSource.ConnectionStringBuilder.MinPoolSize = Math.Min(dataSource.ConnectionStringBuilder.MinPoolSize, MaxPoolSize);
        dataSource.ConnectionStringBuilder.Timeout = ConnectionTimeoutSeconds;
    }

    /// <summary>
    /// The global limiter (ASP.NET Core's <see cref="ConcurrencyLimiter"/>, one partition for the process); health
    /// probes are never held back, so an orchestrator sees a busy Api as alive and ready.
    /// </summary>
    public PartitionedRateLimiter<HttpContext> GlobalLimiter() => PartitionedRateLimiter.Create<HttpContext, string>(http =>
        IsHealthProbe(http.Request.Path)
            ? RateLimitPartition.GetNoLimiter("health")
            : RateLimitPartition.GetConcurrencyLimiter("requests", _ => new ConcurrencyLimiterOptions
            {
                PermitLimit = MaxConcurrentRequests,
                QueueLimit = QueueLimit,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            }));

    private static bool IsHealthProbe(PathString path) =>
        path.StartsWithSegments(ServiceDefaultsExtensions.HealthPath) || path.StartsWithSegments(ServiceDefaultsExtensions.AlivePath);

    /// <summary>Writes the overload answer: 503, <c>Retry-After</c>, RFC 9457 problem details.</summary>
    public async ValueTask<bool> WriteUnavailableAsync(HttpContext http, string detail, Exception? exception = null)
    {
        http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        http.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return await http.RequestServices.GetRequiredService<IProblemDetailsService>().TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            Exception = exception,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Type = ProblemTypes.Unavailable,
                Title = "Temporarily unavailable.",
                Detail = detail + $" Nothing was stored; retry after {RetryAfterSeconds} s.",
            },
        });
    }
}

/// <summary>
/// Turns "no database connection to be had" into 503 + <c>Retry-After</c> instead of a 500: the pool stayed full for
/// the whole connection timeout, or PostgreSQL refused or dropped the connection (restart, too many connections). The
/// request's transaction did not commit, so a retry (with the same <c>clientActivityId</c> for a post) is safe.
/// </summary>
public sealed partial class DatabaseUnavailableHandler(OverloadOptions options, ILogger<DatabaseUnavailableHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!IsDatabaseUnavailable(exception) || httpContext.Response.HasStarted)
        {
            return false;
        }
        LogUnavailable(logger, httpContext.Request.Method, exception.GetBaseException().Message);
        return await options.WriteUnavailableAsync(httpContext, "The database is busy or unreachable.", exception);
    }

    /// <summary>An Npgsql failure to get or keep a connection, anywhere in the exception's chain (EF Core wraps them).</summary>
    public static bool IsDatabaseUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                // Server-side: only the states that mean "no connection now" (too many connections, shutting down,
                // starting up); other transient states (serialization, deadlock) belong to the request's own logic.
                case PostgresException pg:
                    return pg.SqlState is PostgresErrorCodes.TooManyConnections or PostgresErrorCodes.AdminShutdown
                        or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow;
                // Client-side: the pool's wait timed out, or the socket failed or timed out.
                case NpgsqlException npgsql when npgsql.IsTransient:
                    return true;
            }
        }
        return false;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} answered 503: no database connection ({Reason})")]
    private static partial void LogUnavailable(ILogger logger, string method, string reason);
}
