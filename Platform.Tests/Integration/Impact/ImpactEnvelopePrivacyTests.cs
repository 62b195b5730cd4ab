using System.Text;
using System.Text.Json;
using Npgsql;

namespace Platform.Tests.Integration.Impact;

/// <summary>
/// Webhook envelopes carry names, e-mails and notes: they are stored sealed, dropped once applied, and a pending one
/// naming a person is part of that person's export and goes with their erasure.
/// </summary>
public sealed class ImpactEnvelopePrivacyTests(ImpactFixture fx) : IClassFixture<ImpactFixture>
{
    private static string Envelope(string id, string type, object data) => JsonSerializer.Serialize(new
    {
        type, data, metadata = new { id, version = "v1", timestamp = "2026-03-01T10:00:00Z" },
    });

    private async Task<(byte[]? Sealed, string? Plain, bool Processed, string[] Refs)> RowAsync(Guid tenant, string eventId)
    {
        await using var cmd = fx.Db.CreateCommand("SELECT envelope_enc, envelope::text, processed_at IS NOT NULL, person_refs FROM impact.domain_events WHERE tenant_id = $1 AND event_id = $2");
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenant });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = eventId });
        await using var r = await cmd.ExecuteReaderAsync();
        Assert.True(await r.ReadAsync(), $"event {eventId} is stored");
        return (r.IsDBNull(0) ? null : r.GetFieldValue<byte[]>(0), r.IsDBNull(1) ? null : r.GetString(1), r.GetBoolean(2), r.GetFieldValue<string[]>(3));
    }

    [Fact]
    public async Task Envelopes_are_sealed_at_rest_dropped_when_applied_exported_while_pending_and_erased_with_the_person()
    {
        var s = await fx.SeedAsync("envelopes");
        var issued = await fx.Client(s.Tenant.ApiKey).PostAsJsonAsync("/v1/impact/webhooks/buddy/secret", new { companyId = s.Company });
        var secret = (await ImpactFixture.Json(issued)).GetProperty("secret").GetString()!;
        var client = fx.Client();

        // Applied at once: a registration with a name and an e-mail.
        var registered = Envelope("env-1", "person.registered", new { personId = "p77", role = "participant", name = "Zelda Quist", email = "zelda.quist@example.org" });
        Assert.Equal(HttpStatusCode.Accepted, (await client.SendAsync(fx.SignedWebhook(s.Tenant.Id, "buddy", secret, registered))).StatusCode);
        // Never applicable while its buddy is unknown: a check-in note about a known person (p1) naming an unknown one.
        var pending = Envelope("env-2", "buddy.feedback.submitted", new { feedbackId = "f-77", fromId = "p1", toId = "nobody-yet", rating = 4, text = "Private remark about Amira's move" });
        Assert.Equal(HttpStatusCode.Accepted, (await client.SendAsync(fx.SignedWebhook(s.Tenant.Id, "buddy", secret, pending))).StatusCode);

        var waiting = await RowAsync(s.Tenant.Id, "env-2");
        Assert.Null(waiting.Plain);
        Assert.NotNull(waiting.Sealed);
        Assert.DoesNotContain("Private remark", Encoding.UTF8.GetString(waiting.Sealed!));
        Assert.Equal(["p1", "nobody-yet"], waiting.Refs);

        var applied = await Eventually.ReturnsAsync(() => RowAsync(s.Tenant.Id, "env-1"), r => r.Processed, TimeSpan.FromSeconds(30), "the registration is applied");
        Assert.Null(applied.Sealed);
        Assert.Null(applied.Plain);
        Assert.Empty(applied.Refs);
        // The row stays, so the same event id is still a duplicate.
        var again = await client.SendAsync(fx.SignedWebhook(s.Tenant.Id, "buddy", secret, registered));
        Assert.True((await ImpactFixture.Json(again)).GetProperty("duplicate").GetBoolean());

        var api = fx.Client(s.Tenant.ApiKey);
        var amira = await fx.PersonAsync(s.Tenant.Id, "buddy", "p1");
        var export = await api.PostAsJsonAsync("/v1/privacy/export", new { subjectId = amira });
        var exportId = (await ImpactFixture.Json(export)).GetProperty("id").GetGuid();
        var done = await Eventually.ReturnsAsync(async () => await ImpactFixture.Json(await api.GetAsync($"/v1/privacy/requests/{exportId}")),
            r => r.GetProperty("status").GetString() == "completed", TimeSpan.FromSeconds(30), "export completes");
        var pendingEvents = done.GetProperty("result").GetProperty("bundle").GetProperty("pendingEvents");
        var exported = Assert.Single(pendingEvents.EnumerateArray());
        Assert.Equal("env-2", exported.GetProperty("eventId").GetString());
        Assert.Equal("Private remark about Amira's move", exported.GetProperty("envelope").GetProperty("data").GetProperty("text").GetString());

        var erase = await api.PostAsJsonAsync("/v1/privacy/delete", new { subjectId = amira });
        var eraseId = (await ImpactFixture.Json(erase)).GetProperty("id").GetGuid();
        var erased = await Eventually.ReturnsAsync(async () => await ImpactFixture.Json(await api.GetAsync($"/v1/privacy/requests/{eraseId}")),
            r => r.GetProperty("status").GetString() == "completed", TimeSpan.FromSeconds(30), "erasure completes");
        Assert.Equal(1, erased.GetProperty("result").GetProperty("pendingEventsDropped").GetInt32());
        var gone = await RowAsync(s.Tenant.Id, "env-2");
        Assert.Null(gone.Sealed);
        Assert.Null(gone.Plain);
        Assert.Empty(gone.Refs);
        Assert.True(gone.Processed);
    }
}
