using System.Text.Json;
using Platform.Core.Community.Algorithms;
using static Platform.Tests.Integration.Community.CommunityFixture;
using static Platform.Tests.Integration.Conversations.ConversationsFixture;

namespace Platform.Tests.Integration.Community;

[Collection(CommunityCollection.Name)]
public sealed class CollaboratorTests(CommunityFixture f)
{
    private async Task PutAsync(string apiKey, string userId, string team, string[] skills, params string[] roles)
    {
        var r = await f.Client(apiKey).PutAsJsonAsync($"/v1/community/members/{userId}", new { displayName = $"Person {userId}", team, skills, roles });
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
    }

    private static List<string> Ids(JsonElement list) => [.. list.GetProperty("candidates").EnumerateArray().Select(c => c.GetProperty("userId").GetString()!)];

    [Fact]
    public async Task Team_lead_gets_consenting_collaborators_with_reasons_and_provenance_and_feedback_changes_later_lists()
    {
        var tenant = await f.CreateTenantAsync("collab");
        var now = DateTimeOffset.UtcNow;
        await PutAsync(tenant.ApiKey, "lena", "alpha", ["people management"], "team_lead");
        await PutAsync(tenant.ApiKey, "ana", "alpha", ["machine learning", "python"]);
        await PutAsync(tenant.ApiKey, "ben", "beta", ["ml models and training", "data science"]);
        await PutAsync(tenant.ApiKey, "cat", "beta", ["machine learning", "python"]); // the best match, but no consent
        await PutAsync(tenant.ApiKey, "dan", "gamma", ["gardening", "pottery"]);
        await PutAsync(tenant.ApiKey, "eve", "gamma", ["python", "machine learning"]); // already works with ana
        await PutAsync(tenant.ApiKey, "zoe", "delta", ["facilitation"]);
        await PutAsync(tenant.ApiKey, "omar", "beta", ["support"], "team_lead");
        foreach (var p in new[] { "lena", "ana", "ben", "dan", "eve", "zoe" }) await f.GrantAsync(tenant.Id, p, "recommendations");
        // ana and ben both talk with zoe (a shared contact); ana already replies to eve directly.
        var signals = new List<object>();
        foreach (var (a, b, k) in new[] { ("ana", "zoe", 0), ("zoe", "ana", 1), ("ben", "zoe", 2), ("zoe", "ben", 3), ("ana", "eve", 4), ("eve", "ana", 5) })
            signals.Add(Signal("reply", a, b, now.AddDays(-k - 1), $"c-{a}-{b}-{k}"));
        await f.PostSignalsAsync(tenant.ApiKey, signals);

        var lead = f.Client(f.UserToken(tenant.Id, "lena", "team_lead"));
        var list = await Json(await lead.GetAsync("/v1/community/collaborators/ana?limit=10"));
        var ids = Ids(list);
        Assert.Equal("ben", ids[0]);
        Assert.DoesNotContain("cat", ids); // no recommendations consent
        Assert.DoesNotContain("eve", ids); // already a direct contact
        Assert.DoesNotContain("ana", ids);
        var ben = list.GetProperty("candidates")[0];
        var reasons = ben.GetProperty("reasons").EnumerateArray().Select(r => r.GetString()!).ToList();
        Assert.Contains(reasons, r => r.StartsWith("Related expertise", StringComparison.Ordinal));
        Assert.Contains(reasons, r => r.Contains("shared contact", StringComparison.Ordinal) && r.Contains("Person zoe", StringComparison.Ordinal));
        Assert.StartsWith("local-minilm:", list.GetProperty("embeddingModel").GetString());
        var eventId = list.GetProperty("provenance").GetProperty("eventId").GetGuid();
        Assert.Equal(1, await f.ScalarAsync(
            "SELECT count(*) FROM governance.provenance_events WHERE id = $1 AND action = 'recommendation' AND algorithm = 'collaborator-recommendations' AND subject_id = 'ana' AND actor = 'user:lena'",
            eventId));
        // Each distinct expertise text is embedded once and stored under its hash: six consenting members, five texts
        // (ana's and eve's skills are the same set).
        Assert.Equal(5, await f.ScalarAsync("SELECT count(*) FROM community.expertise_embeddings WHERE tenant_id = $1", tenant.Id));

        // Another team's lead, a plain member and a consenting member asking about someone else are refused.
        Assert.Equal(HttpStatusCode.Forbidden, (await f.Client(f.UserToken(tenant.Id, "omar", "team_lead")).GetAsync("/v1/community/collaborators/ana")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await f.Client(f.UserToken(tenant.Id, "dan", "member")).GetAsync("/v1/community/collaborators/ana")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await f.Client(tenant.ApiKey).GetAsync("/v1/community/collaborators/cat")).StatusCode);

        // Bad feedback: problem details, nothing stored.
        var bad = await lead.PostAsJsonAsync("/v1/community/collaborators/ana/feedback", new { candidateId = "ben", outcome = "maybe" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, await f.ScalarAsync("SELECT count(*) FROM community.collaborator_feedback WHERE tenant_id = $1", tenant.Id));

        // Dismissing ben: the pair is closed both ways and the tenant's weights move by the documented step.
        var dismissed = await lead.PostAsJsonAsync("/v1/community/collaborators/ana/feedback", new { candidateId = "ben", outcome = "dismissed" });
        Assert.Equal(HttpStatusCode.Created, dismissed.StatusCode);
        var d = await Json(dismissed);
        var features = d.GetProperty("features");
        var shown = new CollaboratorFeatures(features.GetProperty("skillOverlap").GetDouble(), features.GetProperty("expertiseSimilarity").GetDouble(),
            features.GetProperty("sharedContacts").GetDouble(), features.GetProperty("participation").GetDouble());
        Assert.True(shown.ExpertiseSimilarity > 0 && shown.SharedContacts > 0, $"features {shown}");
        var expected = CollaboratorRanking.UpdateWeights(CollaboratorWeights.Default, shown, CollaboratorOutcome.Dismissed);
        var after = d.GetProperty("weightsAfter");
        Assert.Equal(expected.Expertise, after.GetProperty("expertise").GetDouble(), 9);
        Assert.Equal(expected.SharedContacts, after.GetProperty("sharedContacts").GetDouble(), 9);
        // Ben shares no skill string with ana: dismissing him moves weight from the components that drove him to skills.
        Assert.True(expected.Skills > CollaboratorWeights.Default.Skills, $"{expected}");

        var again = await Json(await lead.GetAsync("/v1/community/collaborators/ana?limit=10"));
        Assert.DoesNotContain("ben", Ids(again));
        Assert.Equal(expected.Expertise, again.GetProperty("weights").GetProperty("expertise").GetDouble(), 9);
        var benOwn = await Json(await f.Client(f.UserToken(tenant.Id, "ben", "member")).GetAsync("/v1/community/collaborators/ben"));
        Assert.DoesNotContain("ana", Ids(benOwn)); // reciprocal: closed for ben too
        Assert.Equal(1, await f.ScalarAsync(
            "SELECT count(*) FROM governance.provenance_events WHERE tenant_id = $1 AND action = 'collaborator.feedback' AND subject_id = 'ana' AND actor = 'user:lena'",
            tenant.Id));
    }
}
