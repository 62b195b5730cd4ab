using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Platform.Tests.Integration.Security;

/// <summary>Collects every log message of a host, whatever its level.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, Lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var structured = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {structured} {exception}");
        }
    }
}

/// <summary>
/// Tokens in URLs (a stream's <c>?t=</c>, a share link's path) never reach the logs of Api or Realtime, even when
/// an operator turns every category up to Trace: the request start/finish messages that print URLs stay off.
/// </summary>
public sealed class TokenLogRedactionTests
{
    private const string Secret = "SECRETTOKEN0123456789abcdef";

    [Fact]
    public async Task Tokens_in_query_strings_and_paths_do_not_reach_the_logs_at_any_level()
    {
        var settings = TestSettings.For(await TestEnvironment.CreateDatabaseAsync(nameof(TokenLogRedactionTests)), await TestEnvironment.RedisAsync());
        settings["Logging:LogLevel:Default"] = "Trace";
        settings["Logging:LogLevel:Microsoft"] = "Trace";
        settings["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace";
        settings["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "Trace";
        settings["Logging:Console:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "Trace";
        settings["services:realtime:http:0"] = "http://127.0.0.1:7193";

        var apiLogs = new CapturingLoggerProvider();
        await using var api = new ApiFactory(settings).WithWebHostBuilder(b => b.ConfigureLogging(l => l.AddProvider(apiLogs)));
        var realtimeLogs = new CapturingLoggerProvider();
        await using var realtime = new RealtimeFactory(settings).WithWebHostBuilder(b => b.ConfigureLogging(l => l.AddProvider(realtimeLogs)));

        var apiClient = api.CreateClient();
        await apiClient.GetAsync($"/v1/intelligence/reports/shared/{Secret}");
        await apiClient.GetAsync($"/v1/me/notifications?t={Secret}&access_token={Secret}");
        await apiClient.GetAsync($"/v3/directline/conversations/x/activities?token={Secret}");
        var realtimeClient = realtime.CreateClient();
        await realtimeClient.GetAsync($"/v1/stream?t={Secret}");
        await realtimeClient.GetAsync($"/v3/directline/conversations/x/stream?t={Secret}&watermark=1");

        // The capture works: the hosts logged (at Trace) about these very requests.
        Assert.Contains(apiLogs.Lines, l => l.Contains("Microsoft.AspNetCore", StringComparison.Ordinal));
        Assert.Contains(realtimeLogs.Lines, l => l.Contains("Microsoft.AspNetCore", StringComparison.Ordinal));
        var leaked = apiLogs.Lines.Concat(realtimeLogs.Lines).Where(l => l.Contains(Secret, StringComparison.Ordinal)).ToList();
        Assert.True(leaked.Count == 0, "Logged with the token:\n" + string.Join("\n", leaked));
    }
}
