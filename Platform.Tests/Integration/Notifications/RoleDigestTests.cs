using System.Globalization;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Community;
using Platform.Core.Data;
using Platform.Core.Events;
using Platform.Core.Jobs;

namespace Platform.Tests.Integration.Notifications;

/// <summary>
/// Digests written for a role rather than gathered from a person's own notifications: the weekly community pulse and
/// champions for managers and team leads, and the conference day ahead for attendees. Real SMTP on loopback.
/// </summary>
public sealed class RoleDigestTests(EmailFixture fx) : IClassFixture<EmailFixture>
{
    private static object Signal(string kind, string actor, string? target, DateTimeOffset at, string sourceRef) =>
        new { kind, actorId = actor, targetId = target, occurredAt = at, sourceRef };

    private async Task PutMemberAsync(string apiKey, string userId, string team, params string[] roles)
    {
        var r = await fx.Client(apiKey).PutAsJsonAsync($"/v1/community/members/{userId}",
            new { displayName = $"Person {userId}", team, org = "org", cohort = "2026", skills = new[] { "c#" }, roles });
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
    }

    private async Task ConsentAsync(string apiKey, string userId, params string[] purposes)
    {
        var (token, _) = await fx.UserTokenAsync(apiKey, userId, "member");
        foreach (var purpose in purposes)
        {
            Assert.Equal(HttpStatusCode.OK, (await fx.Client(token).PutAsJsonAsync($"/v1/me/consents/{purpose}", new { granted = true })).StatusCode);
        }
    }

    private async Task SetEmailAsync(Guid tenantId, string apiKey, string userId, string email, object settings)
    {
        await fx.ConfirmedEmailAsync(tenantId, userId, email);
        var (token, _) = await fx.UserTokenAsync(apiKey, userId);
        var r = await fx.Client(token).PatchAsJsonAsync("/v1/me/notification-settings", settings);
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
    }

    /// <summary>Runs a sweep twice (a second worker, a restart) and waits until both finished.</summary>
    private async Task SweepTwiceAsync<TArgs>(TArgs args) where TArgs : IJobArgs
    {
        var jobs = fx.Api.Services.GetRequiredService<IJobQueue>();
        var first = await jobs.EnqueueAsync(args);
        await jobs.EnqueueAsync(args);
        try
        {
            await Eventually.TrueAsync(async () => await fx.ScalarAsync("""
                SELECT count(*) FROM ops.job_requests r JOIN hangfire.job j ON j.id = r.hangfire_job_id::bigint
                WHERE r.kind = $2 AND j.statename = 'Succeeded' AND r.id >= $1
                """, first.Id, TArgs.Kind) >= 2, TimeSpan.FromSeconds(60), "both sweeps ran to the end");
        }
        catch (TimeoutException e)
        {
            // Say why: the sweeps' Hangfire states and reasons (a failing handler shows its exception here).
            await using var cmd = await fx.Db.CreateSystemCommandAsync(NotificationsFixture.TestReads, """
                SELECT string_agg(j.statename || ': ' || coalesce((SELECT string_agg(s.name || ' ' || coalesce(s.reason, ''), ' | ' ORDER BY s.id)
                                                                  FROM hangfire.state s WHERE s.jobid = j.id), ''), E'\n')
                FROM ops.job_requests r JOIN hangfire.job j ON j.id = r.hangfire_job_id::bigint WHERE r.kind = $2 AND r.id >= $1
                """);
            cmd.Parameters.Add(new Npgsql.NpgsqlParameter<long> { TypedValue = first.Id });
            cmd.Parameters.Add(new Npgsql.NpgsqlParameter<string> { TypedValue = TArgs.Kind });
            throw new TimeoutException($"{e.Message}\n{await cmd.ExecuteScalarAsync()}", e);
        }
    }

    [Fact]
    public async Task Managers_and_team_leads_get_one_weekly_pulse_digest_that_hides_small_teams_and_names_only_consenting_champions()
    {
        var tenant = await fx.CreateTenantAsync("pulse-digest");
        var now = DateTimeOffset.UtcNow;
        var alpha = new[] { "a1", "a2", "a3", "a4", "a5", "a6" };
        foreach (var p in alpha)
        {
            await PutMemberAsync(tenant.ApiKey, p, "alpha");
            // a6 counts in the pulse but never agreed to be named.
            await ConsentAsync(tenant.ApiKey, p, p == "a6" ? ["pulse"] : ["pulse", "recognition"]);
        }
        foreach (var p in new[] { "b1", "b2" })
        {
            await PutMemberAsync(tenant.ApiKey, p, "beta");
            await ConsentAsync(tenant.ApiKey, p, "pulse", "recognition");
        }
        await PutMemberAsync(tenant.ApiKey, "mia", "office", "community_manager");
        await PutMemberAsync(tenant.ApiKey, "leo", "alpha", "team_lead");
        var signals = alpha.SelectMany((p, i) => new[]
            {
                Signal("reply", p, alpha[(i + 1) % alpha.Length], now.AddHours(-2 - i), $"pd-r-{p}"),
                Signal("mention", p, "a1", now.AddHours(-3 - i), $"pd-m-{p}"),
            })
            .Concat([Signal("message", "b1", null, now.AddHours(-1), "pd-b1"), Signal("reply", "b2", "b1", now.AddHours(-1), "pd-b2")]);
        var posted = await fx.Client(tenant.ApiKey).PostAsJsonAsync("/v1/community/signals", new { signals = signals.ToArray() });
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        // The scoring run a refresh or the hourly schedule starts (this fixture's Worker serves the scoring queue).
        await fx.Api.Services.GetRequiredService<IJobQueue>().EnqueueAsync(new ScoreChampionsArgs(tenant.Id, "test"));
        await Eventually.TrueAsync(async () => await fx.ScalarAsync("SELECT count(*) FROM community.rankings WHERE tenant_id = $1", tenant.Id) == 1,
            TimeSpan.FromSeconds(60), "the champion ranking is stored");

        var today = (int)now.DayOfWeek == 0 ? 7 : (int)now.DayOfWeek;
        foreach (var who in new[] { "mia", "leo" })
        {
            await SetEmailAsync(tenant.Id, tenant.ApiKey, who, $"{who}@pulse.example.net", new { timeZone = "UTC", digestWeekday = today, digestTime = "00:00" });
        }
        await SweepTwiceAsync(new PulseDigestSweepArgs());

        var toMia = await fx.Smtp.WaitForAsync(m => m.RcptTos.Contains("mia@pulse.example.net"), "the manager's digest arrives");
        var toLeo = await fx.Smtp.WaitForAsync(m => m.RcptTos.Contains("leo@pulse.example.net"), "the team lead's digest arrives");
        Assert.Equal("Your community this week", toMia.Message.Subject);
        Assert.Equal("Team alpha this week", toLeo.Message.Subject);
        var mia = toMia.Message.TextBody ?? "";
        Assert.Contains("alpha: 6 active", mia, StringComparison.Ordinal);
        Assert.DoesNotContain("beta", mia, StringComparison.Ordinal); // two people: under the k-anonymity floor
        Assert.Contains("1 team has fewer than 5 active consenting members", mia, StringComparison.Ordinal);
        Assert.Contains("Person a1 (alpha)", mia, StringComparison.Ordinal);
        Assert.DoesNotContain("Person a6", mia, StringComparison.Ordinal);
        var leo = toLeo.Message.TextBody ?? "";
        Assert.Contains("alpha: 6 active", leo, StringComparison.Ordinal);
        Assert.DoesNotContain("fewer than", leo, StringComparison.Ordinal); // only their own team, which is reportable
        Assert.DoesNotContain("Person b", leo, StringComparison.Ordinal);
        Assert.DoesNotContain("Person a6", leo, StringComparison.Ordinal);

        // Once per person and week however often the sweep runs; each naming of champions left a provenance read.
        Assert.Equal(2, await fx.ScalarAsync(
            "SELECT count(*) FROM ops.notification_outbox WHERE tenant_id = $1 AND notification_type = 'digest.community-pulse'", tenant.Id));
        Assert.Equal(2, fx.Smtp.Received().Count(m => m.RcptTos.Any(r => r.EndsWith("@pulse.example.net", StringComparison.Ordinal))));
        Assert.Equal(1, await fx.ScalarAsync(
            "SELECT count(*) FROM governance.provenance_events WHERE tenant_id = $1 AND action = 'ranking.read' AND actor = 'digest:mia'", tenant.Id));
    }

    [Fact]
    public async Task An_attendee_gets_one_day_ahead_digest_the_evening_before_with_the_gatherings_they_did_not_decline()
    {
        var tenant = await fx.CreateTenantAsync("day-ahead");
        var now = DateTimeOffset.UtcNow;
        // A fixed-offset zone where it is about 20:00 now: after the 18:00 send time, well before midnight.
        var offset = ((20 - now.UtcDateTime.Hour + 36) % 24) - 12;
        var zone = offset switch { 0 => "Etc/UTC", > 0 => $"Etc/GMT-{offset}", _ => $"Etc/GMT+{-offset}" };
        var tomorrow = new DateTimeOffset(now.ToOffset(TimeSpan.FromHours(offset)).Date.AddDays(1), TimeSpan.FromHours(offset));
        var confResponse = await fx.Client(tenant.ApiKey).PostAsJsonAsync("/v1/events/conferences", new { name = "DevConf" });
        Assert.Equal(HttpStatusCode.Created, confResponse.StatusCode);
        var conf = (await Json(confResponse)).GetProperty("id").GetGuid();
        foreach (var (id, name) in new[] { ("ann", "Ann"), ("bob", "Bob"), ("cat", "Cat") })
        {
            var put = await fx.Client(tenant.ApiKey).PutAsJsonAsync($"/v1/events/conferences/{conf}/attendees/{id}", new
            {
                displayName = name, kind = "attendee", company = $"{name} Ltd", bio = "compilers", interests = new { rust = 1 },
                availability = new[] { new { start = tomorrow.AddHours(8), end = tomorrow.AddHours(18) } }, consentToMatch = true, consentToInvites = true,
            });
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        }
        async Task<Guid> Gathering(string topic, int fromHour)
        {
            var created = await fx.Client(tenant.ApiKey).PostAsJsonAsync("/v1/gatherings", new
            {
                conferenceId = conf, topic, tags = new[] { "rust" }, place = "Room 4", startsAt = tomorrow.AddHours(fromHour), endsAt = tomorrow.AddHours(fromHour + 1),
                capacity = 10,
            });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var id = (await Json(created)).GetProperty("id").GetGuid();
            var invited = await fx.Client(tenant.ApiKey).PostAsJsonAsync($"/v1/gatherings/{id}/invitations", new { userIds = new[] { "ann", "bob" } });
            Assert.True(invited.IsSuccessStatusCode, await invited.Content.ReadAsStringAsync());
            return id;
        }
        var rust = await Gathering("Rust meetup", 10);
        var wasm = await Gathering("Wasm clinic", 14);
        Assert.Equal(HttpStatusCode.OK, (await fx.Client(tenant.ApiKey).PostAsJsonAsync($"/v1/gatherings/{rust}/rsvp", new { userId = "ann", response = "accepted" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fx.Client(tenant.ApiKey).PostAsJsonAsync($"/v1/gatherings/{wasm}/rsvp", new { userId = "ann", response = "declined" })).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await fx.Client(tenant.ApiKey).PostAsJsonAsync("/v1/matching/calculate", new { conferenceId = conf })).StatusCode);
        await Eventually.TrueAsync(async () => await fx.ScalarAsync("SELECT count(*) FROM events.matches WHERE conference_id = $1 AND user_id = 'ann'", conf) > 0,
            TimeSpan.FromSeconds(60), "ann's matches are stored");
        await SetEmailAsync(tenant.Id, tenant.ApiKey, "ann", "ann@conf.example.net", new { timeZone = zone });
        // bob is invited too but has no email address: nothing for him.

        await SweepTwiceAsync(new DayAheadDigestSweepArgs());
        var mail = await fx.Smtp.WaitForAsync(m => m.RcptTos.Contains("ann@conf.example.net"), "the day-ahead digest arrives");
        Assert.Equal("Tomorrow at DevConf: 1 gathering", mail.Message.Subject);
        var text = mail.Message.TextBody ?? "";
        Assert.Contains("10:00–11:00 Rust meetup — Room 4 (you accepted)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Wasm", text, StringComparison.Ordinal);
        Assert.Contains("People to meet:", text, StringComparison.Ordinal);
        Assert.Matches("• (Bob \\(Bob Ltd\\)|Cat \\(Cat Ltd\\)): ", text);
        Assert.Equal(1, await fx.ScalarAsync(
            "SELECT count(*) FROM ops.notification_outbox WHERE tenant_id = $1 AND notification_type = 'digest.day-ahead'", tenant.Id));
        Assert.Equal(1, await fx.ScalarAsync(
            "SELECT count(*) FROM ops.notification_digests WHERE tenant_id = $1 AND period_key = $2", tenant.Id,
            $"day-ahead:{conf:N}:{tomorrow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}"));
    }

    private static async Task<System.Text.Json.JsonElement> Json(HttpResponseMessage r) =>
        System.Text.Json.JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.Clone();
}
