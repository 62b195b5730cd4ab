using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Cryptography;

namespace Platform.Core.Notifications;

/// <summary>What one SMTP attempt came to.</summary>
public enum EmailOutcome
{
    Sent,
    /// <summary>Worth another attempt: network, timeout, TLS or auth trouble, a 4xx answer.</summary>
    Transient,
    /// <summary>The server refused this message for good (5xx): retrying sends the same thing again.</summary>
    Rejected,
    /// <summary>The server refused the recipient address for good (5xx to RCPT TO): the address is disabled.</summary>
    AddressRejected,
}

public sealed record EmailResult(EmailOutcome Outcome, int? StatusCode, string? Error);

/// <summary>A message ready to send; <see cref="MessageId"/> is stable per delivery so a retry is recognisably the same mail.</summary>
public sealed record OutgoingEmail(string FromName, string To, EmailContent Content, Uri? Unsubscribe, string MessageId);

/// <summary>
/// Sends email with MailKit over SMTP (STARTTLS, implicit TLS or plain on loopback; AUTH when a username is set),
/// builds the MIME with MimeKit (multipart/alternative text + HTML, RFC 8058 one-click unsubscribe headers) and signs
/// it with DKIM when a key is configured. One connection per send: the job engine spreads sends over its workers.
/// </summary>
public sealed partial class EmailSender
{
    private static readonly string[] SignedHeaders = ["From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post"];

    private readonly EmailOptions _options;
    private readonly DkimSigner? _dkim;
    private readonly ILogger<EmailSender> _logger;

    public EmailSender(IOptions<EmailOptions> options, ILogger<EmailSender> logger)
    {
        _options = options.Value;
        _logger = logger;
        if (_options.Dkim.IsConfigured)
        {
            using var key = new MemoryStream(Encoding.ASCII.GetBytes(_options.Dkim.PrivateKeyPem!));
            _dkim = new DkimSigner(key, _options.Dkim.Domain!, _options.Dkim.Selector!)
            {
                HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
                BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
                AgentOrUserIdentifier = "@" + _options.Dkim.Domain,
            };
        }
    }

    public bool IsConfigured => _options.IsConfigured;

    public MimeMessage Build(OutgoingEmail email)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress(email.FromName, _options.From));
        message.To.Add(MailboxAddress.Parse(email.To));
        message.Subject = email.Content.Subject;
        message.Date = DateTimeOffset.UtcNow;
        message.MessageId = email.MessageId;
        if (email.Unsubscribe is not null)
        {
            // RFC 8058: an https URL that unsubscribes on a POST with "List-Unsubscribe=One-Click", no further page.
            message.Headers.Add("List-Unsubscribe", $"<{email.Unsubscribe.AbsoluteUri}>");
            message.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
        }
        message.Headers.Add("Auto-Submitted", "auto-generated");
        message.Body = new BodyBuilder { TextBody = email.Content.Text, HtmlBody = email.Content.Html }.ToMessageBody();
        if (_dkim is not null)
        {
            message.Prepare(EncodingConstraint.SevenBit);
            _dkim.Sign(message, SignedHeaders);
        }
        return message;
    }

    public Task<EmailResult> SendAsync(MimeMessage message, CancellationToken ct) => SendAsync(message, null, ct);

    /// <param name="envelopeFrom">The SMTP envelope sender (MAIL FROM, where bounces go); null uses the From address.</param>
    public async Task<EmailResult> SendAsync(MimeMessage message, string? envelopeFrom, CancellationToken ct)
    {
        using var client = new SmtpClient { Timeout = (int)_options.Timeout.TotalMilliseconds, CheckCertificateRevocation = false };
        client.ServerCertificateValidationCallback = AcceptCertificate;
        try
        {
            await client.ConnectAsync(_options.Host ?? "", _options.Port, _options.Security switch
            {
                SmtpSecurity.StartTls => SecureSocketOptions.StartTls,
                SmtpSecurity.Implicit => SecureSocketOptions.SslOnConnect,
                SmtpSecurity.None => SecureSocketOptions.None,
                _ => SecureSocketOptions.StartTlsWhenAvailable,
            }, ct);
            if (!string.IsNullOrEmpty(_options.Username))
            {
                await client.AuthenticateAsync(_options.Username, _options.Password ?? "", ct);
            }
            if (envelopeFrom is null)
            {
                await client.SendAsync(message, ct);
            }
            else
            {
                await client.SendAsync(message, MailboxAddress.Parse(envelopeFrom), message.To.Mailboxes, ct);
            }
            await client.DisconnectAsync(true, ct);
            return new EmailResult(EmailOutcome.Sent, 250, null);
        }
        catch (SmtpCommandException ex)
        {
            var code = (int)ex.StatusCode;
            var error = $"smtp {code}: {ex.Message}";
            return code >= 500
                ? new EmailResult(ex.ErrorCode == SmtpErrorCode.RecipientNotAccepted ? EmailOutcome.AddressRejected : EmailOutcome.Rejected, code, error)
                : new EmailResult(EmailOutcome.Transient, code, error);
        }
        catch (Exception ex) when (ex is SmtpProtocolException or IOException or SocketException or SslHandshakeException or AuthenticationException
                                       or ServiceNotConnectedException or ServiceNotAuthenticatedException or TimeoutException
                                       || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            LogSendFailed(_logger, _options.Host, ex.Message);
            return new EmailResult(EmailOutcome.Transient, null, $"smtp: {ex.GetType().Name}: {ex.Message}");
        }
    }

    private bool AcceptCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) =>
        errors == SslPolicyErrors.None
        || (_options.ServerCertificateSha256 is { Length: > 0 } pinned && certificate is not null
            && string.Equals(Convert.ToHexString(SHA256.HashData(certificate.GetRawCertData())), pinned.Replace(":", "", StringComparison.Ordinal),
                StringComparison.OrdinalIgnoreCase));

    [LoggerMessage(Level = LogLevel.Warning, Message = "SMTP send through {Host} failed: {Reason}")]
    private static partial void LogSendFailed(ILogger logger, string? host, string reason);
}
