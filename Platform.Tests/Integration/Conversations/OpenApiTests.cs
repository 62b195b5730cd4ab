using System.Text.Json;

namespace Platform.Tests.Integration.Conversations;

public sealed class OpenApiTests(ConversationsFixture fx) : IClassFixture<ConversationsFixture>
{
    [Fact]
    public async Task The_openapi_document_describes_every_endpoint_with_the_bearer_scheme_and_docs_page_is_served()
    {
        var doc = JsonDocument.Parse(await fx.Client().GetStringAsync("/openapi/v1.json")).RootElement;
        var operations = doc.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(o => o.Value.TryGetProperty("operationId", out var id) ? id.GetString() : null))
            .ToHashSet();
        foreach (var name in new[]
                 {
                     "CreateTenant", "ListTenants", "GetTenant", "UpdateTenant", "IssueApiKey", "RevokeApiKey", "CreateChannel", "ListChannels",
                     "GetChannel", "UpdateChannel", "RotateChannelSecret", "StartConversation", "GetConversation", "CloseConversation",
                     "IssueClientToken", "PostActivity", "ListActivities",
                     "ListRetentionSettings", "SetRetention", "ListRetentionRuns", "RequestSubjectExport", "RequestSubjectErasure",
                     "GetSharedIntelligenceReport",
                 })
        {
            Assert.Contains(name, operations);
        }
        Assert.Equal("bearer", doc.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer").GetProperty("scheme").GetString());
        var post = doc.GetProperty("paths").GetProperty("/v1/conversations/{id}/activities").GetProperty("post");
        Assert.True(post.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _));
        Assert.True(post.GetProperty("responses").TryGetProperty("201", out _));
        Assert.True(post.GetProperty("responses").TryGetProperty("413", out _));

        var docs = await fx.Client().GetAsync("/docs/index.html");
        Assert.Equal(HttpStatusCode.OK, docs.StatusCode);
    }
}
