using System.Text.Json;
using Platform.Core.Notifications;

namespace Platform.Tests.Integration.Impact;

public sealed class SafetyEscalationTests(ImpactFixture fx) : IClassFixture<ImpactFixture>
{
    [Fact]
    public async Task A_self_harm_or_violence_flag_notifies_every_safety_contact_at_once_with_an_audit_entry_and_an_insult_does_not()
    {
        var tenant = await fx.CreateTenantAsync("safety-escalation");
        var company = await fx.CreateCompanyAsync(tenant.ApiKey, "escalation corp");
        await fx.ImportAsync(tenant.ApiKey, company, "participants", """
            source,external_id,role,name,email,program,enrolled_at
            buddy,p1,participant,Amira Haddad,amira@example.org,buddy,2026-01-05
            """);
        var api = fx.Client(tenant.ApiKey);
        var set = await api.PutAsync("/v1/safety-contacts", new StringContent("""{"userIds":["lead-1","lead-2"]}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        foreach (var bad in new[] { """{"userIds":"lead-1"}""", """{"userIds":[""]}""", """{"contacts":[]}""", """{"userIds":[1]}""" })
        {
            var refused = await api.PutAsync("/v1/safety-contacts", new StringContent(bad, System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        }
        var contacts = await ImpactFixture.Json(await api.GetAsync("/v1/safety-contacts"));
        Assert.Equal(["lead-1", "lead-2"], contacts.GetProperty("userIds").EnumerateArray().Select(u => u.GetString()));

        await fx.ImportAsync(tenant.ApiKey, company, "checkins", """
            source,checkin_id,participant_id,date,mood,note
            buddy,e1,p1,2026-03-01,1,"Some days I want to die."
            buddy,e2,p1,2026-03-02,2,"That volunteer is an idiot."
            buddy,e3,p1,2026-03-03,2,"If he comes back I will hurt you, I said."
            """);
        var escalations = await Eventually.ReturnsAsync(async () => await ImpactFixture.Json(await api.GetAsync("/v1/safety-escalations")),
            e => e.GetProperty("items").GetArrayLength() == 2, TimeSpan.FromSeconds(30), "the self-harm and the violence flag are escalated");
        foreach (var item in escalations.GetProperty("items").EnumerateArray())
        {
            Assert.Equal(["lead-1", "lead-2"], item.GetProperty("contacts").EnumerateArray().Select(c => c.GetString()));
            Assert.Equal(2, item.GetProperty("outboxIds").GetArrayLength());
        }
        var categories = escalations.GetProperty("items").EnumerateArray().SelectMany(i => i.GetProperty("categories").EnumerateArray().Select(c => c.GetString())).ToHashSet();
        Assert.Contains("self_harm", categories);

        // Each contact has one notification per flag, and it is delivered in-app right away (no digest, no batching).
        await Eventually.TrueAsync(async () => await fx.CountAsync("""
            SELECT count(*) FROM ops.notification_deliveries d JOIN ops.notification_outbox o ON o.id = d.outbox_id
            WHERE o.tenant_id = $1 AND o.notification_type = 'safety.escalation' AND d.channel = 'in_app' AND d.state = 'sent'
            """, tenant.Id) == 4, TimeSpan.FromSeconds(30), "four in-app safety alerts are sent");
        Assert.Equal(3, await fx.CountAsync("SELECT count(*) FROM impact.safety_flags WHERE tenant_id = $1", tenant.Id));
        // The insult is flagged for review but escalates nobody: no job was even queued for it.
        Assert.Equal(2, await fx.CountAsync("SELECT count(*) FROM ops.job_requests WHERE kind = $1 AND args->>'tenantId' = $2",
            SafetyEscalationArgs.Kind, tenant.Id.ToString()));
        // The audit is append-only.
        await Assert.ThrowsAsync<Npgsql.PostgresException>(() => fx.CountAsync("DELETE FROM ops.safety_escalations WHERE tenant_id = $1", tenant.Id));
    }

    [Fact]
    public void Only_self_harm_and_threat_signals_escalate()
    {
        Assert.True(SafetyEscalation.ShouldEscalate(["self_harm"], ["self_harm:want to die"]));
        Assert.True(SafetyEscalation.ShouldEscalate(["abuse"], ["abuse:i will hurt you"]));
        Assert.False(SafetyEscalation.ShouldEscalate(["abuse"], ["abuse:idiot"]));
        Assert.False(SafetyEscalation.ShouldEscalate(["contact_data"], ["contact_data:phone"]));
    }
}
