using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Core.Community;
using Platform.Core.Jobs;
using static Platform.Tests.Integration.Conversations.ConversationsFixture;

namespace Platform.Tests.Integration.Community;

/// <summary>Approved nudges are carried out by the Worker, through the notifications outbox, exactly once, with provenance.</summary>
[Collection(CommunityCollection.Name)]
public sealed class NudgeTests(CommunityFixture f)
{
    private async Task<long> CountAsync(string sql, Guid tenantId, object arg)
    {
        await using var conn = new NpgsqlConnection(f.Database);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = arg });
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    private async Task<JsonElement> ExecutionAsync(HttpClient client, Guid approvalId) =>
        await Eventually.ReturnsAsync(async () =>
        {
            var r = await client.GetAsync($"/v1/approvals/{approvalId}/execution");
            return r.StatusCode == HttpStatusCode.OK ? await Json(r) : default;
        }, j => j.ValueKind == JsonValueKind.Object, TimeSpan.FromSeconds(60), "the Worker executes the approved nudge");

    [Fact]
    public async Task An_approved_message_nudge_reaches_the_subject_once_however_often_it_is_run_or_approved()
    {
        var tenant = await f.CreateTenantAsync("nudge-message");
        await f.PutMemberAsync(tenant.ApiKey, "sue", "alpha");
        await f.GrantAsync(tenant.Id, "sue", "recommendations");
        var manager = f.Client(f.UserToken(tenant.Id, "mia", "community_manager"));
        var sue = f.Client(f.UserToken(tenant.Id, "sue", "member"));

        var request = await manager.PostAsJsonAsync("/v1/approvals/request",
            new { kind = "nudge", subjectUserId = "sue", payload = new { action = "message", message = "Ann's team is stuck on Rust lifetimes: could you drop by?" } });
        Assert.Equal(HttpStatusCode.Created, request.StatusCode);
        var approvalId = (await Json(request)).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.NotFound, (await manager.GetAsync($"/v1/approvals/{approvalId}/execution")).StatusCode); // pending: nothing ran
        Assert.Equal(HttpStatusCode.OK, (await manager.PostAsync($"/v1/approvals/{approvalId}/approve", null)).StatusCode);

        var execution = await ExecutionAsync(sue, approvalId);
        Assert.Equal("sent", execution.GetProperty("status").GetString());
        Assert.Equal(["sue"], execution.GetProperty("members").EnumerateArray().Select(m => m.GetString()));
        var inbox = await Eventually.ReturnsAsync(async () => await Json(await sue.GetAsync("/v1/me/notifications")),
            j => j.GetProperty("items").GetArrayLength() > 0, TimeSpan.FromSeconds(30), "the in-app relay delivers the nudge");
        var item = Assert.Single(inbox.GetProperty("items").EnumerateArray());
        Assert.Equal(Nudges.MessageType, item.GetProperty("type").GetString());
        Assert.Equal("Ann's team is stuck on Rust lifetimes: could you drop by?", item.GetProperty("payload").GetProperty("message").GetString());

        // Replayed approval: refused, nothing new. Retried job and concurrent runs: the same execution, nothing new.
        Assert.Equal(HttpStatusCode.Conflict, (await manager.PostAsync($"/v1/approvals/{approvalId}/approve", null)).StatusCode);
        var jobs = f.Api.Services.GetRequiredService<IJobQueue>();
        var again = await jobs.EnqueueAsync(new ExecuteNudgeArgs(tenant.Id, approvalId), new JobOptions { UniqueKey = $"nudge-again:{approvalId}" });
        var nudges = f.Api.Services.GetRequiredService<Nudges>();
        var reruns = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => nudges.ExecuteAsync(tenant.Id, approvalId)));
        Assert.All(reruns, r => Assert.Equal(execution.GetProperty("provenanceEventId").GetGuid(), r!.ProvenanceEventId));
        var admin = f.Api.Services.GetRequiredService<JobAdmin>();
        await Eventually.ReturnsAsync(() => admin.GetAsync(again.Id), j => j?.State == JobStates.Succeeded, TimeSpan.FromSeconds(60),
            "the second job for the same approval runs to completion");
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM ops.notification_outbox WHERE tenant_id = $1 AND subject_id = $2",
            tenant.Id, $"nudge:{approvalId}"));
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM community.nudge_executions WHERE tenant_id = $1 AND approval_id = $2", tenant.Id, approvalId));
        var officer = f.Client(f.UserToken(tenant.Id, "olga", "compliance_officer"));
        var events = await Json(await officer.GetAsync("/v1/provenance/events?action=nudge.executed&subjectId=sue"));
        var e = Assert.Single(events.GetProperty("items").EnumerateArray());
        Assert.Contains(approvalId.ToString(), e.GetProperty("details").GetString());
        Assert.True((await Json(await officer.GetAsync("/v1/provenance/verify"))).GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task A_collaboration_space_nudge_opens_one_conversation_for_the_subject_and_the_consenting_invitees()
    {
        var tenant = await f.CreateTenantAsync("nudge-space");
        var channel = await f.CreateChannelAsync(tenant.ApiKey, "spaces");
        foreach (var p in new[] { "sue", "ann", "bob" }) await f.PutMemberAsync(tenant.ApiKey, p, "alpha");
        await f.GrantAsync(tenant.Id, "ann", "recommendations"); // bob has not consented: he is not added
        var lead = f.Client(f.UserToken(tenant.Id, "leo", "team_lead"));
        var sue = f.Client(f.UserToken(tenant.Id, "sue", "member"));
        var request = await lead.PostAsJsonAsync("/v1/approvals/request", new
        {
            kind = "nudge", subjectUserId = "sue",
            payload = new { action = "collaboration_space", title = "Rust guild", channelId = channel.Id, members = new[] { "ann", "bob" }, message = "Pair up?" },
        });
        Assert.Equal(HttpStatusCode.Created, request.StatusCode);
        var approvalId = (await Json(request)).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.OK, (await sue.PostAsync($"/v1/approvals/{approvalId}/approve", null)).StatusCode); // the subject consents by approving

        var execution = await ExecutionAsync(lead, approvalId);
        Assert.Equal("created", execution.GetProperty("status").GetString());
        Assert.Equal(["sue", "ann"], execution.GetProperty("members").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(1, execution.GetProperty("excluded").GetInt32());
        var conversationId = execution.GetProperty("conversationId").GetGuid();
        var conversation = await Json(await f.Client(tenant.ApiKey).GetAsync($"/v1/conversations/{conversationId}"));
        Assert.Equal(channel.Id, conversation.GetProperty("channelId").GetGuid());

        var ann = f.Client(f.UserToken(tenant.Id, "ann", "member"));
        var annInbox = await Eventually.ReturnsAsync(async () => await Json(await ann.GetAsync("/v1/me/notifications")),
            j => j.GetProperty("items").GetArrayLength() > 0, TimeSpan.FromSeconds(30), "ann hears about the space");
        var invite = Assert.Single(annInbox.GetProperty("items").EnumerateArray());
        Assert.Equal(Nudges.SpaceType, invite.GetProperty("type").GetString());
        Assert.Equal(conversationId, invite.GetProperty("payload").GetProperty("conversationId").GetGuid());
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM ops.notification_outbox WHERE tenant_id = $1 AND user_id = $2", tenant.Id, "bob"));

        // Run again: still one conversation, two notifications.
        await f.Api.Services.GetRequiredService<Nudges>().ExecuteAsync(tenant.Id, approvalId);
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM core.conversations WHERE tenant_id = $1 AND channel_id = $2", tenant.Id, channel.Id));
        Assert.Equal(2, await CountAsync("SELECT count(*) FROM ops.notification_outbox WHERE tenant_id = $1 AND subject_id = $2", tenant.Id, $"nudge:{approvalId}"));
    }

    [Fact]
    public async Task A_nudge_approved_for_someone_without_consent_is_skipped_and_a_bad_nudge_is_refused_before_anything_is_stored()
    {
        var tenant = await f.CreateTenantAsync("nudge-consent");
        await f.PutMemberAsync(tenant.ApiKey, "zed", "alpha");
        var manager = f.Client(f.UserToken(tenant.Id, "mia", "community_manager"));
        var request = await manager.PostAsJsonAsync("/v1/approvals/request", new { kind = "nudge", subjectUserId = "zed", payload = new { message = "hello" } });
        var approvalId = (await Json(request)).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.OK, (await manager.PostAsync($"/v1/approvals/{approvalId}/approve", null)).StatusCode);
        var execution = await ExecutionAsync(manager, approvalId);
        Assert.Equal("skipped", execution.GetProperty("status").GetString());
        Assert.Equal("no-consent", execution.GetProperty("reason").GetString());
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM ops.notification_outbox WHERE tenant_id = $1 AND user_id = $2", tenant.Id, "zed"));

        var before = await CountAsync("SELECT count(*) FROM governance.approvals WHERE tenant_id = $1 AND kind = $2", tenant.Id, "nudge");
        var otherTenantChannel = await f.CreateChannelAsync((await f.CreateTenantAsync("nudge-other")).ApiKey);
        foreach (var (payload, field) in new (object?, string)[]
        {
            (null, "payload"),
            (new { action = "shout", message = "x" }, "payload.action"),
            (new { action = "message" }, "payload.message"),
            (new { action = "message", message = new string('x', 2001) }, "payload.message"),
            (new { action = "collaboration_space", title = "t", channelId = Guid.NewGuid(), members = new[] { "a" } }, "payload.channelId"),
            (new { action = "collaboration_space", title = "t", channelId = otherTenantChannel.Id, members = new[] { "a" } }, "payload.channelId"),
            (new { action = "collaboration_space", channelId = otherTenantChannel.Id, members = new[] { "a" } }, "payload.title"),
            (new { action = "collaboration_space", title = "t", members = Array.Empty<string>() }, "payload.members"),
        })
        {
            var r = await manager.PostAsJsonAsync("/v1/approvals/request", new { kind = "nudge", subjectUserId = "zed", payload });
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
            Assert.True((await Json(r)).GetProperty("errors").TryGetProperty(field, out _), $"{field} is named for {JsonSerializer.Serialize(payload)}");
        }
        Assert.Equal(before, await CountAsync("SELECT count(*) FROM governance.approvals WHERE tenant_id = $1 AND kind = $2", tenant.Id, "nudge"));
    }
}
