using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Platform.Admin.Access;

/// <summary>Operator sign-in settings (configuration section <c>Admin</c>).</summary>
public sealed class SignInOptions
{
    /// <summary>
    /// The operator password in plain text (<c>Admin:Password</c>), for development only; prefer <see cref="PasswordHash"/>.
    /// Sign-in is impossible while both are empty.
    /// </summary>
    public string? Password { get; set; }

    /// <summary>
    /// The operator password as a PBKDF2 hash (<c>Admin:PasswordHash</c>, <see cref="AdminPasswordHash"/>): the panel
    /// then never holds the password itself. Wins over <see cref="Password"/> when both are set.
    /// </summary>
    public string? PasswordHash { get; set; }

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

    public bool IsConfigured => !string.IsNullOrEmpty(_options.PasswordHash) || !string.IsNullOrEmpty(_options.Password);

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
        var matches = !string.IsNullOrEmpty(_options.PasswordHash)
            ? AdminPasswordHash.Verify(password ?? "", _options.PasswordHash)
            : CryptographicOperations.FixedTimeEquals(
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

/// <summary>
/// The operator password's stored form: <c>pbkdf2-sha256$iterations$salt$hash</c> (base64), PBKDF2-HMAC-SHA256 with a
/// 16-byte random salt and 600,000 iterations (OWASP's figure for this PRF). The AppHost hands the panel only this.
/// </summary>
public static class AdminPasswordHash
{
    public const int Iterations = 600_000;
    private const string Scheme = "pbkdf2-sha256";

    public static string Hash(string password, int iterations = Iterations)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
        return $"{Scheme}${iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }

    /// <summary>Whether the password matches; a malformed stored hash matches nothing.</summary>
    public static bool Verify(string password, string stored)
    {
        var parts = stored.Split('$');
        if (parts.Length != 4 || parts[0] != Scheme || !int.TryParse(parts[1], out var iterations) || iterations is < 1 or > 10_000_000)
        {
            return false;
        }
        try
        {
            var salt = Convert.FromBase64String(parts[2]);
            var expected = Convert.FromBase64String(parts[3]);
            var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, expected.Length);
            return CryptographicOperations.FixedTimeEquals(actual, expected);
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
