using System.Text.Json;
using Platform.Core.Notifications;

namespace Platform.Tests.Unit.Notifications;

public sealed class EmailTemplateTests
{
    private static readonly NotificationBrand Brand = new("Springfield", NotificationBrand.DefaultAccent, null);

    [Fact]
    public void A_civic_meeting_published_email_names_the_city_and_meeting_and_carries_the_short_summary()
    {
        var payload = JsonSerializer.SerializeToElement(new
        {
            meetingId = Guid.NewGuid(), cityId = Guid.NewGuid(), versionId = Guid.NewGuid(), status = "published",
            title = "Springfield: City Council (2026-12-01)", summary = "The council adopted the 2027 budget.",
        });
        var mail = EmailTemplates.Render("civic.meeting.published", payload, Brand, null);

        Assert.Equal("Meeting summary: Springfield: City Council (2026-12-01)", mail.Subject);
        Assert.Contains("A meeting in a city you follow has a new summary.", mail.Text, StringComparison.Ordinal);
        Assert.Contains("The council adopted the 2027 budget.", mail.Html, StringComparison.Ordinal);
    }

    [Fact]
    public void A_civic_meeting_published_email_queued_with_ids_only_still_reads_as_such()
    {
        var payload = JsonSerializer.SerializeToElement(new { meetingId = Guid.NewGuid(), cityId = "springfield", versionId = 3, status = "published" });
        var mail = EmailTemplates.Render("civic.meeting.published", payload, Brand, null);

        Assert.Equal("Meeting summary: a meeting in a city you follow", mail.Subject);
        Assert.DoesNotContain("civic.meeting.published", mail.Text, StringComparison.Ordinal);
    }
}
