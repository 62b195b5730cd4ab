using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Platform.Core.Notifications;

/// <summary>A rendered email: subject, plain text and HTML (sent together as multipart/alternative).</summary>
public sealed record EmailContent(string Subject, string Text, string Html);

/// <summary>
/// Email templates per notification type, in the tenant's brand. Each type picks a subject line and an intro; the body
/// is the payload's <c>title</c>, <c>body</c> (or <c>summary</c>) and <c>url</c> (http/https only). Everything from the
/// payload is HTML-encoded: producers' text never becomes markup.
/// </summary>
public static class EmailTemplates
{
    private sealed record Template(Func<string, string> Subject, string Intro, string? DefaultTitle = null);

    private static readonly Dictionary<string, Template> ByType = new(StringComparer.Ordinal)
    {
        ["civic.meeting-summary"] = new(t => $"Meeting summary: {t}", "A meeting in a city you follow has a new summary."),
        // Civic's publish notification carries the city, meeting and date as its title and the short summary; one
        // queued before it did carries ids only and reads with the default title.
        ["civic.meeting.published"] = new(t => $"Meeting summary: {t}", "A meeting in a city you follow has a new summary.",
            "a meeting in a city you follow"),
        ["civic.agenda"] = new(t => $"New agenda: {t}", "A city you follow published an agenda."),
        ["safety.escalation"] = new(_ => "Safety alert: a check-in needs attention now",
            "A check-in or feedback text was flagged for self-harm or violence. Please review it in the safety queue now."),
        ["community.champion"] = new(t => $"Champion: {t}", "News about your community's champions."),
        ["digest.day-ahead"] = new(t => t, "Your conference day ahead: where to be and whom to meet."),
        ["digest.community-pulse"] = new(t => t, "How your community did this week, and who carried it."),
        ["identity.sign-in-link"] = new(t => t, "You asked to sign in with this e-mail address."),
        ["email.verify"] = new(t => t, "One step before we email you."),
    };

    public static EmailContent Render(string type, JsonElement payload, NotificationBrand brand, Uri? unsubscribe)
    {
        var template = ByType.GetValueOrDefault(type) ?? (type.StartsWith("digest.", StringComparison.Ordinal)
            ? new Template(t => t, "Your digest.")
            : new Template(t => t, "You have a new notification."));
        var title = Text(payload, "title") ?? template.DefaultTitle ?? type;
        var body = Text(payload, "body") ?? Text(payload, "summary");
        var url = Text(payload, "url") is { } u && Uri.TryCreate(u, UriKind.Absolute, out var link) && link.Scheme is "https" or "http" ? link : null;
        var subject = OneLine($"{template.Subject(title)}");
        if (subject.Length > 200)
        {
            subject = subject[..199] + "…";
        }
        return new EmailContent(subject, PlainText(brand, template.Intro, title, body, url, unsubscribe),
            Html(brand, template.Intro, title, body, url, unsubscribe));
    }

    private static string PlainText(NotificationBrand brand, string intro, string title, string? body, Uri? url, Uri? unsubscribe)
    {
        var sb = new StringBuilder();
        sb.Append(brand.DisplayName).Append("\r\n\r\n").Append(intro).Append("\r\n\r\n").Append(title).Append("\r\n");
        if (body is not null)
        {
            sb.Append("\r\n").Append(body.Replace("\r\n", "\n", StringComparison.Ordinal).Replace("\n", "\r\n", StringComparison.Ordinal)).Append("\r\n");
        }
        if (url is not null)
        {
            sb.Append("\r\nOpen: ").Append(url.AbsoluteUri).Append("\r\n");
        }
        sb.Append("\r\n-- \r\n");
        if (brand.Footer is not null)
        {
            sb.Append(brand.Footer).Append("\r\n");
        }
        if (unsubscribe is not null)
        {
            sb.Append("Unsubscribe from these emails: ").Append(unsubscribe.AbsoluteUri).Append("\r\n");
        }
        return sb.ToString();
    }

    private static string Html(NotificationBrand brand, string intro, string title, string? body, Uri? url, Uri? unsubscribe)
    {
        static string E(string s) => WebUtility.HtmlEncode(s);
        var accent = brand.AccentColor;
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>").Append(E(title)).Append("</title></head>")
          .Append("<body style=\"margin:0;font-family:Arial,Helvetica,sans-serif;color:#1b1f24\">")
          .Append("<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\"><tr><td style=\"background:").Append(accent)
          .Append(";color:#ffffff;padding:16px 24px;font-size:18px;font-weight:bold\">").Append(E(brand.DisplayName)).Append("</td></tr>")
          .Append("<tr><td style=\"padding:24px\"><p style=\"color:#57606a\">").Append(E(intro)).Append("</p><h1 style=\"font-size:20px\">")
          .Append(E(title)).Append("</h1>");
        if (body is not null)
        {
            foreach (var paragraph in body.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n"))
            {
                sb.Append("<p>").Append(E(paragraph).Replace("\n", "<br>", StringComparison.Ordinal)).Append("</p>");
            }
        }
        if (url is not null)
        {
            sb.Append("<p><a href=\"").Append(E(url.AbsoluteUri)).Append("\" style=\"background:").Append(accent)
              .Append(";color:#ffffff;padding:10px 16px;text-decoration:none;border-radius:4px\">Open</a></p>");
        }
        sb.Append("</td></tr><tr><td style=\"padding:16px 24px;font-size:12px;color:#57606a;border-top:1px solid #d0d7de\">");
        if (brand.Footer is not null)
        {
            sb.Append("<p>").Append(E(brand.Footer)).Append("</p>");
        }
        if (unsubscribe is not null)
        {
            sb.Append("<p><a href=\"").Append(E(unsubscribe.AbsoluteUri)).Append("\">Unsubscribe</a> from these emails.</p>");
        }
        sb.Append("</td></tr></table></body></html>");
        return sb.ToString();
    }

    private static string? Text(JsonElement payload, string name) =>
        payload.ValueKind == JsonValueKind.Object && payload.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
        && v.GetString() is { Length: > 0 } s ? s : null;

    private static string OneLine(string s) => string.Join(' ', s.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries)).Trim();
}

/// <summary>
/// One-click unsubscribe tokens (RFC 8058): <c>base64url(tenant \n user \n type) "." base64url(HMAC-SHA256)</c>. A token
/// turns email off for one (user, type); it does not expire, because an unsubscribe link must keep working.
/// </summary>
public sealed class UnsubscribeTokens
{
    private readonly byte[] _key;

    public UnsubscribeTokens(string key) => _key = SHA256.HashData(Encoding.UTF8.GetBytes(key));

    public string Issue(Guid tenantId, string userId, string type)
    {
        var payload = System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{tenantId:D}\n{userId}\n{type}"));
        return $"{payload}.{System.Buffers.Text.Base64Url.EncodeToString(HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(payload)))}";
    }

    public (Guid TenantId, string UserId, string Type)? Verify(string? token)
    {
        if (token is not { Length: > 0 and < 2000 } || token.Split('.') is not [var payload, var signature])
        {
            return null;
        }
        byte[] given;
        byte[] data;
        try
        {
            given = System.Buffers.Text.Base64Url.DecodeFromChars(signature);
            data = System.Buffers.Text.Base64Url.DecodeFromChars(payload);
        }
        catch (FormatException)
        {
            return null;
        }
        var expected = HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(payload));
        if (!CryptographicOperations.FixedTimeEquals(expected, given))
        {
            return null;
        }
        return Encoding.UTF8.GetString(data).Split('\n') is [var t, var u, var type] && Guid.TryParse(t, out var tenant) && u.Length > 0
            && NotificationRules.IsType(type)
            ? (tenant, u, type)
            : null;
    }
}
