using System.Text.Json;
using Platform.Core.Notifications;

namespace Platform.Tests.Unit.Notifications;

public sealed class EmailTemplateTests
{
    [Fact]
    public void A_civic_meeting_published_email_reads_as_such_although_its_payload_carries_only_ids()
    {
        var payload = JsonSerializer.SerializeToElement(new { meetingId = Guid.NewGuid(), cityId = "springfield", versionId = 3, status = "published" });
        var mail = EmailTemplates.Render("civic.meeting.published", payload, new NotificationBrand("Springfield", NotificationBrand.DefaultAccent, null), null);

        Assert.Equal("A meeting you follow was published", mail.Subject);
        Assert.Contains("A meeting in a city you follow was published.", mail.Text, StringComparison.Ordinal);
        Assert.Contains("Its summary and minutes are ready to read.", mail.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("civic.meeting.published", mail.Text, StringComparison.Ordinal);
    }
}
