using System.Data.Common;
using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Platform.Core.Notifications;

/// <summary>How the SMTP connection is secured (MailKit's SecureSocketOptions, named for configuration).</summary>
public enum SmtpSecurity
{
    /// <summary>STARTTLS when the server offers it, else plain (only for a server on loopback).</summary>
    Auto,
    /// <summary>Plain connection upgraded with STARTTLS; refuses a server without it (submission, port 587).</summary>
    StartTls,
    /// <summary>TLS from the first byte (SMTPS, port 465).</summary>
    Implicit,
    /// <summary>No TLS at all (a development server on loopback).</summary>
    None,
}

/// <summary>
/// Settings under <c>Platform:Notifications:Email</c>. The server can also come from the <c>smtp</c> connection string
/// (<c>ConnectionStrings:smtp</c>): either a URI <c>smtp://user:password@host:587</c> / <c>smtps://…:465</c>, or
/// <c>Endpoint=smtp://host:port;Username=…;Password=…;Security=StartTls</c>. The connection string wins over the section.
/// </summary>
public sealed class EmailOptions
{
    public const string Section = "Platform:Notifications:Email";

    public string? Host { get; set; }
    public int Port { get; set; } = 587;
    public SmtpSecurity Security { get; set; } = SmtpSecurity.StartTls;
    public string? Username { get; set; }
    public string? Password { get; set; }

    /// <summary>The From address (e.g. <c>notifications@example.org</c>); the display name is the tenant's brand.</summary>
    public string From { get; set; } = "notifications@platform.invalid";

    /// <summary>
    /// Where bounces go (e.g. <c>bounces@mail.example.org</c>): when set, each email's envelope sender is
    /// <c>bounces+{delivery}-{signature}@mail.example.org</c> (VERP), and a delivery status notification mailed back to
    /// it and handed to <c>POST /v1/internal/notifications/bounces</c> finds its delivery. The mailbox must accept the
    /// <c>+</c> sub-addresses. Api must have the same setting to read them.
    /// </summary>
    public string? BounceAddress { get; set; }

    /// <summary>The public base URL of Api, for the one-click unsubscribe link (e.g. <c>https://api.example.org</c>).</summary>
    public string PublicBaseUrl { get; set; } = "http://localhost:5000";

    /// <summary>HMAC key of unsubscribe tokens; Worker (signs) and Api (verifies) must share it.</summary>
    public string? UnsubscribeKey { get; set; }

    /// <summary>SHA-256 fingerprint (hex) of a server certificate to accept although it is not trusted (a self-signed dev server).</summary>
    public string? ServerCertificateSha256 { get; set; }

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an address confirmation link works.</summary>
    public TimeSpan VerificationLifetime { get; set; } = TimeSpan.FromHours(24);

    public DkimOptions Dkim { get; set; } = new();

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Host);

    /// <summary>Binds the section, then applies <c>ConnectionStrings:smtp</c> when present.</summary>
    public static void Configure(EmailOptions options, IConfiguration configuration)
    {
        configuration.GetSection(Section).Bind(options);
        if (configuration.GetConnectionString("smtp") is { Length: > 0 } cs)
        {
            ApplyConnectionString(options, cs);
        }
    }

    public static void ApplyConnectionString(EmailOptions options, string connectionString)
    {
        if (Uri.TryCreate(connectionString, UriKind.Absolute, out var uri) && uri.Scheme is "smtp" or "smtps")
        {
            ApplyUri(options, uri);
            return;
        }
        var builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
        string? Value(string key) => builder.TryGetValue(key, out var v) ? Convert.ToString(v, CultureInfo.InvariantCulture) : null;
        if (Value("Endpoint") is { } endpoint && Uri.TryCreate(endpoint, UriKind.Absolute, out var e))
        {
            ApplyUri(options, e);
        }
        if (Value("Host") is { Length: > 0 } host)
        {
            options.Host = host;
        }
        if (Value("Port") is { } port && int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var p))
        {
            options.Port = p;
        }
        if (Value("Username") is { } user)
        {
            options.Username = user;
        }
        if (Value("Password") is { } password)
        {
            options.Password = password;
        }
        if (Value("Security") is { } security && Enum.TryParse<SmtpSecurity>(security, ignoreCase: true, out var s))
        {
            options.Security = s;
        }
        if (Value("From") is { Length: > 0 } from)
        {
            options.From = from;
        }
    }

    private static void ApplyUri(EmailOptions options, Uri uri)
    {
        options.Host = uri.Host;
        options.Security = uri.Scheme == "smtps" ? SmtpSecurity.Implicit : options.Security;
        options.Port = uri.IsDefaultPort || uri.Port <= 0 ? (uri.Scheme == "smtps" ? 465 : 587) : uri.Port;
        if (uri.UserInfo is { Length: > 0 } info)
        {
            var colon = info.IndexOf(':', StringComparison.Ordinal);
            options.Username = Uri.UnescapeDataString(colon < 0 ? info : info[..colon]);
            options.Password = colon < 0 ? null : Uri.UnescapeDataString(info[(colon + 1)..]);
        }
    }
}

/// <summary>DKIM signing (RFC 6376) with MimeKit's DkimSigner; on when all three are set.</summary>
public sealed class DkimOptions
{
    public string? Domain { get; set; }
    public string? Selector { get; set; }

    /// <summary>The RSA private key as PEM text.</summary>
    public string? PrivateKeyPem { get; set; }

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Domain) && !string.IsNullOrWhiteSpace(Selector) && !string.IsNullOrWhiteSpace(PrivateKeyPem);
}
