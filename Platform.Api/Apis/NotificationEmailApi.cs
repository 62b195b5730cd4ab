using System.Globalization;
using System.Net;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Security;
using Platform.Core.Notifications;

namespace Platform.Api.Apis;

/// <summary>
/// Email: the person's address, time zone, digest schedule and quiet hours (<c>/v1/me/notification-settings</c>), the
/// tenant's brand (<c>/v1/notification-branding</c>) and the one-click unsubscribe link of every email (<c>/v1/unsubscribe</c>).
/// </summary>
public static class NotificationEmailApi
{
    public static IEndpointRouteBuilder MapNotificationEmailApi(this IEndpointRouteBuilder app)
    {
        var me = app.MapGroup("/v1/me").WithTags("Notifications").RequireAuthorization(AuthPolicies.User)
            .AddEndpointFilter<TenantRateLimitFilter>().ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
        me.MapGet("/notification-settings", GetSettings).WithName("GetNotificationSettings")
            .WithSummary("The caller's email address (and whether it still receives mail), time zone, digest schedule and quiet hours.");
        me.MapPatch("/notification-settings", PatchSettings).WithName("UpdateNotificationSettings")
            .WithSummary("Change email (null removes), timeZone (IANA), digest (off|daily|weekly), digestTime (HH:mm), digestWeekday (1=Mon…7), quietHours ({start, end} or null).")
            .Accepts<NotificationSettingsView>("application/json").ProducesProblem(StatusCodes.Status400BadRequest)
            .WithDescription("A new email address starts unconfirmed (emailVerified false): a one-time confirmation link is mailed to it, and "
                             + "until it is confirmed only safety alerts and that link are sent there.");
        me.MapPost("/notification-settings/email-verification", ResendVerification).WithName("SendEmailVerification")
            .WithSummary("Mail a new confirmation link to the caller's unconfirmed address (202 {email, expiresAt}); 409 when confirmed, 400 without an address.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict);

        var tenant = app.MapGroup("/v1/notification-branding").WithTags("Notifications").RequireAuthorization(AuthPolicies.Tenant)
            .AddEndpointFilter<TenantRateLimitFilter>().ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
        tenant.MapGet("/", GetBranding).WithName("GetNotificationBranding").WithSummary("How the tenant's email looks.");
        tenant.MapPut("/", PutBranding).WithName("SetNotificationBranding")
            .WithSummary("Set {displayName (1–100), accentColor (#rrggbb), footer (≤ 500, optional)}.")
            .Accepts<BrandingView>("application/json").ProducesProblem(StatusCodes.Status400BadRequest);

        app.MapGet("/v1/unsubscribe", UnsubscribePage).WithTags("Notifications").WithName("UnsubscribePage").AllowAnonymous()
            .RequireRateLimiting(AnonymousLimits.PerIp).WithSummary("The page behind an email's unsubscribe link: a button that confirms (GET changes nothing).")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        app.MapPost("/v1/unsubscribe", Unsubscribe).WithTags("Notifications").WithName("Unsubscribe").AllowAnonymous()
            .RequireRateLimiting(AnonymousLimits.PerIp).DisableAntiforgery()
            .WithSummary("One-click unsubscribe (RFC 8058): turns email off for the token's person and notification type.")
            .ProducesProblem(StatusCodes.Status400BadRequest);

        app.MapGet("/v1/email-verification", VerificationPage).WithTags("Notifications").WithName("EmailVerificationPage").AllowAnonymous()
            .RequireRateLimiting(AnonymousLimits.PerIp)
            .WithSummary("The page behind a confirmation link: a button that confirms (GET confirms nothing, so link scanners cannot).")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        app.MapPost("/v1/email-verification", ConfirmEmail).WithTags("Notifications").WithName("ConfirmEmail").AllowAnonymous()
            .RequireRateLimiting(AnonymousLimits.PerIp).DisableAntiforgery()
            .WithSummary("Confirm the address a link was mailed to: once, within its lifetime (24 h), while it is still the person's address. "
                         + "The token is kept only as its SHA-256.")
            .ProducesProblem(StatusCodes.Status400BadRequest);

        app.MapGroup("/v1/internal/notifications").WithTags("Notifications").RequireAuthorization(AuthPolicies.Operator)
            .MapPost("/bounces", IngestBounce).WithName("IngestEmailBounce")
            .WithSummary("Operator/ingest: a bounce as mailed back (a raw RFC 3464 delivery status notification, message/rfc822 or text, ≤ 1 MiB). "
                         + "Found by its VERP return path; a permanent (5.x.x) failure of the person's current address disables it (audited) and fails the delivery.")
            .Accepts<string>("message/rfc822", "text/plain", "application/octet-stream")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        return app;
    }

    /// <summary>The largest bounce accepted: a report with the returned message's headers is a few KiB, a full returned message rarely more.</summary>
    public const int MaxBounceBytes = 1024 * 1024;

    public static async Task<Results<Ok<BounceReportView>, ProblemHttpResult>> IngestBounce(HttpRequest request, EmailBounces bounces, CancellationToken ct)
    {
        if (request.ContentLength > MaxBounceBytes)
        {
            return Problems.TooLarge(MaxBounceBytes);
        }
        using var raw = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (raw.Length + read > MaxBounceBytes)
            {
                return Problems.TooLarge(MaxBounceBytes);
            }
            raw.Write(chunk, 0, read);
        }
        raw.Position = 0;
        DeliveryStatusReport? report;
        try
        {
            report = raw.Length == 0 ? null : DeliveryStatusReport.Read(await MimeKit.MimeMessage.LoadAsync(raw, ct));
        }
        catch (FormatException)
        {
            report = null;
        }
        if (report is null)
        {
            return Problems.Invalid("body", "The body must be a delivery status notification (RFC 3464): a MIME message with a "
                + "multipart/report; report-type=delivery-status body holding a message/delivery-status part with at least one recipient.");
        }
        var result = await bounces.ApplyAsync(report, ct);
        if (result is null)
        {
            return Problems.Invalid("body", "The report was not mailed to a bounce address of ours (bounces+{delivery}-{signature}@…, from "
                + "X-Original-To, Delivered-To, Envelope-To or To), or its signature does not match.");
        }
        if (result.Recipients.Count == 0)
        {
            return Problems.NotFound("Email delivery");
        }
        return TypedResults.Ok(new BounceReportView(result.DeliveryId, result.AddressDisabled,
            [.. result.Recipients.Select(r => new BounceRecipientView(r.Address, r.Action, r.Status, r.Outcome))]));
    }

    public static async Task<Ok<NotificationSettingsView>> GetSettings(ClaimsPrincipal user, NotificationProfiles profiles, CancellationToken ct)
    {
        var caller = Caller.From(user);
        return TypedResults.Ok(View(await profiles.GetAsync(caller.TenantId, caller.UserId!, ct)));
    }

    public static async Task<Results<Ok<NotificationSettingsView>, ProblemHttpResult>> PatchSettings(HttpRequest request, ClaimsPrincipal user,
        NotificationProfiles profiles, EmailVerifications verifications, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, NotificationChannelsJsonContext.Default.JsonElement);
        if (problem is not null)
        {
            return problem;
        }
        if (body.ValueKind != JsonValueKind.Object)
        {
            return Problems.Invalid("body", "The body must be a JSON object.");
        }
        var caller = Caller.From(user);
        var p = await profiles.GetAsync(caller.TenantId, caller.UserId!, ct);
        foreach (var property in body.EnumerateObject())
        {
            var v = property.Value;
            switch (property.Name)
            {
                case "email" when v.ValueKind == JsonValueKind.Null:
                    p = p with { Email = null };
                    break;
                case "email" when v.ValueKind == JsonValueKind.String && IsEmail(v.GetString()!):
                    p = p with { Email = v.GetString()!.Trim() };
                    break;
                case "email":
                    return Problems.Invalid("email", "email must be one address such as ada@example.org (at most 254 characters), or null.");
                case "timeZone" when v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 and <= 64 } zone
                                     && TimeZoneInfo.TryFindSystemTimeZoneById(zone, out _):
                    p = p with { TimeZone = zone };
                    break;
                case "timeZone":
                    return Problems.Invalid("timeZone", "timeZone must be an IANA time zone such as Europe/Oslo or America/New_York.");
                case "digest" when v.ValueKind == JsonValueKind.String && DigestFrequencies.All.Contains(v.GetString()):
                    p = p with { Digest = v.GetString()! };
                    break;
                case "digest":
                    return Problems.Invalid("digest", "digest must be off, daily or weekly.");
                case "digestTime" when TryTime(v, out var time):
                    p = p with { DigestTime = time };
                    break;
                case "digestTime":
                    return Problems.Invalid("digestTime", "digestTime must be a local time HH:mm (e.g. 07:30).");
                case "digestWeekday" when v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var day) && day is >= 1 and <= 7:
                    p = p with { DigestWeekday = day };
                    break;
                case "digestWeekday":
                    return Problems.Invalid("digestWeekday", "digestWeekday must be 1 (Monday) to 7 (Sunday).");
                case "quietHours" when v.ValueKind == JsonValueKind.Null:
                    p = p with { QuietStart = null, QuietEnd = null };
                    break;
                case "quietHours" when v.ValueKind == JsonValueKind.Object && v.TryGetProperty("start", out var s) && v.TryGetProperty("end", out var e)
                                       && v.EnumerateObject().Count() == 2 && TryTime(s, out var start) && TryTime(e, out var end) && start != end:
                    p = p with { QuietStart = start, QuietEnd = end };
                    break;
                case "quietHours":
                    return Problems.Invalid("quietHours", "quietHours must be {\"start\": \"HH:mm\", \"end\": \"HH:mm\"} (different times; may wrap midnight) or null.");
                default:
                    return Problems.Invalid(property.Name, $"Unknown field '{property.Name}'; send email, timeZone, digest, digestTime, digestWeekday and/or quietHours.");
            }
        }
        var before = await profiles.GetAsync(caller.TenantId, caller.UserId!, ct);
        var saved = await profiles.SaveAsync(caller.TenantId, caller.UserId!, p, ct);
        if (saved.Email is { } address && !string.Equals(before.Email, address, StringComparison.Ordinal))
        {
            await verifications.StartAsync(caller.TenantId, caller.UserId!, address, ct);
        }
        return TypedResults.Ok(View(saved));
    }

    public static async Task<Results<Accepted<VerificationSent>, ProblemHttpResult>> ResendVerification(ClaimsPrincipal user, NotificationProfiles profiles,
        EmailVerifications verifications, CancellationToken ct)
    {
        var caller = Caller.From(user);
        var profile = await profiles.GetAsync(caller.TenantId, caller.UserId!, ct);
        if (profile.Email is not { } address)
        {
            return Problems.Invalid("email", "Set an address first (PATCH /v1/me/notification-settings {\"email\": …}).");
        }
        if (profile.EmailVerifiedAt is not null)
        {
            return TypedResults.Problem(new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = StatusCodes.Status409Conflict, Type = "urn:platform:problem:conflict", Title = "The address is already confirmed.",
                Detail = $"{address} was confirmed; nothing was sent.",
            });
        }
        var expires = await verifications.StartAsync(caller.TenantId, caller.UserId!, address, ct);
        return TypedResults.Accepted((string?)null, new VerificationSent(address, expires));
    }

    public static Results<ContentHttpResult, ProblemHttpResult> VerificationPage(string? token, EmailChannel email)
    {
        if (email.Verification.Read(token) is null)
        {
            return Problems.Invalid("token", "This confirmation link is not valid.");
        }
        var encoded = WebUtility.HtmlEncode(Uri.EscapeDataString(token!));
        return TypedResults.Content($"""
            <!DOCTYPE html><html><head><meta charset="utf-8"><title>Confirm your email address</title></head><body>
            <p>Confirm that this email address is yours and start receiving notifications there?</p>
            <form method="post" action="/v1/email-verification?token={encoded}"><button type="submit">Confirm</button></form></body></html>
            """, "text/html; charset=utf-8");
    }

    public static async Task<Results<ContentHttpResult, ProblemHttpResult>> ConfirmEmail(string? token, EmailVerifications verifications, CancellationToken ct)
    {
        var (outcome, _) = await verifications.ConfirmAsync(token, ct);
        return outcome switch
        {
            EmailConfirmation.Confirmed => TypedResults.Content("Your email address is confirmed.", "text/plain; charset=utf-8"),
            EmailConfirmation.Expired => Problems.Invalid("token", "This confirmation link has expired; ask for a new one in the app."),
            EmailConfirmation.AlreadyUsed => Problems.Invalid("token", "This confirmation link has already been used."),
            EmailConfirmation.AddressChanged => Problems.Invalid("token", "This link confirms an address that is no longer yours to confirm: another address was set since."),
            _ => Problems.Invalid("token", "This confirmation link is not valid."),
        };
    }

    public static async Task<Ok<BrandingView>> GetBranding(ClaimsPrincipal user, NotificationBranding branding, CancellationToken ct)
    {
        var b = await branding.GetAsync(Caller.From(user).TenantId, ct);
        return TypedResults.Ok(new BrandingView(b.DisplayName, b.AccentColor, b.Footer));
    }

    public static async Task<Results<Ok<BrandingView>, ProblemHttpResult>> PutBranding(HttpRequest request, ClaimsPrincipal user,
        NotificationBranding branding, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, NotificationChannelsJsonContext.Default.BrandingView);
        if (problem is not null)
        {
            return problem;
        }
        if (body!.DisplayName is not { Length: >= 1 and <= 100 } name || string.IsNullOrWhiteSpace(name))
        {
            return Problems.Invalid("displayName", "displayName must be 1–100 characters.");
        }
        var accent = body.AccentColor?.ToLowerInvariant() ?? NotificationBrand.DefaultAccent;
        if (accent.Length != 7 || accent[0] != '#' || !accent.Skip(1).All(char.IsAsciiHexDigitLower))
        {
            return Problems.Invalid("accentColor", "accentColor must be #rrggbb (e.g. #1f6feb).");
        }
        if (body.Footer is { Length: > 500 })
        {
            return Problems.Invalid("footer", "footer must be at most 500 characters.");
        }
        var saved = await branding.SaveAsync(Caller.From(user).TenantId, new NotificationBrand(name.Trim(), accent, body.Footer), ct);
        return TypedResults.Ok(new BrandingView(saved.DisplayName, saved.AccentColor, saved.Footer));
    }

    public static Results<ContentHttpResult, ProblemHttpResult> UnsubscribePage(string? token, EmailChannel email)
    {
        if (email.Unsubscribe.Verify(token) is not { } who)
        {
            return Problems.Invalid("token", "This unsubscribe link is not valid.");
        }
        var encoded = WebUtility.HtmlEncode(Uri.EscapeDataString(token!));
        return TypedResults.Content($"""
            <!DOCTYPE html><html><head><meta charset="utf-8"><title>Unsubscribe</title></head><body>
            <p>Stop emails of the kind “{WebUtility.HtmlEncode(who.Type)}”?</p>
            <form method="post" action="/v1/unsubscribe?token={encoded}"><input type="hidden" name="List-Unsubscribe" value="One-Click">
            <button type="submit">Unsubscribe</button></form></body></html>
            """, "text/html; charset=utf-8");
    }

    public static async Task<Results<ContentHttpResult, ProblemHttpResult>> Unsubscribe(string? token, EmailChannel email, ChannelPreferences preferences,
        CancellationToken ct)
    {
        if (email.Unsubscribe.Verify(token) is not { } who)
        {
            return Problems.Invalid("token", "This unsubscribe link is not valid.");
        }
        await preferences.SaveUserChoicesAsync(who.TenantId, who.UserId, [new ChannelChoiceChange(who.Type, ChannelNames.Email, false)], ct);
        return TypedResults.Content("You are unsubscribed from these emails.", "text/plain; charset=utf-8");
    }

    private static NotificationSettingsView View(NotificationProfile p) => new(p.Email, p.Email is null ? null : p.EmailStatus,
        p.Email is null ? null : p.EmailVerifiedAt is not null, p.EmailReason, p.TimeZone,
        p.Digest, p.DigestTime.ToString("HH\\:mm", CultureInfo.InvariantCulture), p.DigestWeekday,
        p.QuietStart is { } s && p.QuietEnd is { } e
            ? new QuietHoursView(s.ToString("HH\\:mm", CultureInfo.InvariantCulture), e.ToString("HH\\:mm", CultureInfo.InvariantCulture))
            : null);

    private static bool TryTime(JsonElement v, out TimeOnly time)
    {
        time = default;
        return v.ValueKind == JsonValueKind.String
               && TimeOnly.TryParseExact(v.GetString(), "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out time);
    }

    public static bool IsEmail(string value)
    {
        var s = value.Trim();
        return s.Length is >= 3 and <= 254 && !s.Any(char.IsWhiteSpace) && s.Count(c => c == '@') == 1 && s.IndexOf('@') is > 0 and var at
               && at < s.Length - 1 && MimeKit.MailboxAddress.TryParse(s, out var mailbox) && mailbox.Address == s;
    }
}

public sealed record QuietHoursView(string Start, string End);

public sealed record VerificationSent(string Email, DateTimeOffset ExpiresAt);

public sealed record NotificationSettingsView(string? Email, string? EmailStatus, bool? EmailVerified, string? EmailReason, string TimeZone, string Digest, string DigestTime,
    int DigestWeekday, QuietHoursView? QuietHours);

public sealed record BounceRecipientView(string? Address, string Action, string? Status, string Outcome);

public sealed record BounceReportView(long DeliveryId, bool AddressDisabled, IReadOnlyList<BounceRecipientView> Recipients);

public sealed record BrandingView(string? DisplayName, string? AccentColor, string? Footer);
