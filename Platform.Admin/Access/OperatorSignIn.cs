using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Platform.Admin.Access;

/// <summary>Operator sign-in settings (configuration section <c>Admin</c>).</summary>
public sealed class SignInOptions
{
    /// <summary>The operator password (<c>Admin:Password</c>); sign-in is impossible while it is empty.</summary>
    public string? Password { get; set; }

    /// <summary>Failed attempts from one address before it is locked out.</summary>
    public int MaxFailures { get; set; } = 5;

    /// <summary>How long a locked-out address must wait; also the window failures are counted in.</summary>
    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(15);
}

public enum SignInOutcome { Succeeded, WrongPassword, LockedOut, NotConfigured }

public sealed record SignInResult(SignInOutcome Outcome, TimeSpan RetryAfter = default);

/// <summary>
/// Checks the operator password in constant time and locks an address out after repeated failures.
/// Counted per client address (after the allowlist resolved it), in memory: the panel is one process, and a
/// restart clearing the counters is acceptable because the allowlist already limits who can try.
/// </summary>
public sealed partial class OperatorSignIn(Microsoft.Extensions.Options.IOptions<SignInOptions> options, TimeProvider clock, ILogger<OperatorSignIn> logger)
{
    private sealed record Failures(int Count, DateTimeOffset WindowStart, DateTimeOffset? LockedUntil);

    private readonly ConcurrentDictionary<string, Failures> _failures = new();
    private readonly SignInOptions _options = options.Value;

    public bool IsConfigured => !string.IsNullOrEmpty(_options.Password);

    public SignInResult Check(IPAddress? client, string? password)
    {
        if (!IsConfigured)
        {
            return new(SignInOutcome.NotConfigured);
        }
        var key = client?.ToString() ?? "unknown";
        var now = clock.GetUtcNow();
        if (_failures.TryGetValue(key, out var state) && state.LockedUntil is { } until && until > now)
        {
            LogLockedOut(logger, key);
            return new(SignInOutcome.LockedOut, until - now);
        }

        // Hashing both sides first makes the comparison constant-time regardless of the lengths.
        var matches = CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(password ?? "")),
            SHA256.HashData(Encoding.UTF8.GetBytes(_options.Password!)));
        if (matches)
        {
            _failures.TryRemove(key, out _);
            LogSignedIn(logger, key);
            return new(SignInOutcome.Succeeded);
        }

        var updated = _failures.AddOrUpdate(key,
            _ => new Failures(1, now, null),
            (_, old) => old.WindowStart + _options.LockoutDuration < now || old.LockedUntil is not null
                ? new Failures(1, now, null)
                : old with { Count = old.Count + 1 });
        if (updated.Count >= _options.MaxFailures)
        {
            _failures[key] = updated with { LockedUntil = now + _options.LockoutDuration };
            LogLockout(logger, key, updated.Count, _options.LockoutDuration);
            return new(SignInOutcome.LockedOut, _options.LockoutDuration);
        }
        LogFailed(logger, key, updated.Count);
        return new(SignInOutcome.WrongPassword);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Operator signed in from {Client}")]
    private static partial void LogSignedIn(ILogger logger, string client);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Wrong admin password from {Client} (failure {Count})")]
    private static partial void LogFailed(ILogger logger, string client, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Admin sign-in locked for {Client} after {Count} failures, for {Duration}")]
    private static partial void LogLockout(ILogger logger, string client, int count, TimeSpan duration);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Admin sign-in attempt from locked-out {Client}")]
    private static partial void LogLockedOut(ILogger logger, string client);
}
