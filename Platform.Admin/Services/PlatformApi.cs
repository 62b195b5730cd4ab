using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace Platform.Admin.Services;

public sealed class PlatformApiOptions
{
    /// <summary>The operator key (<c>Platform:OperatorKey</c>) the panel presents to Api.</summary>
    public string? OperatorKey { get; set; }
}

/// <summary>An Api answer that was not a success, with the problem's title/detail when Api sent one.</summary>
public sealed class PlatformApiException(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
}

// Shapes of Api's answers (the tenancy and jobs contracts, plus /v1/admin reads from AdminReadApi).
public sealed record Page<T>(IReadOnlyList<T> Items, string? Next);
public sealed record TenantRow(Guid Id, string Name, string Status, DateTime CreatedAt, DateTime UpdatedAt, int Channels, int ActiveKeys);
public sealed record CreatedTenant(Guid Id, string Name, string Status, string ApiKey, DateTime CreatedAt);
public sealed record ApiKeyRow(Guid Id, string Prefix, DateTime CreatedAt, DateTime? RevokedAt);
public sealed record CreatedApiKey(Guid Id, string ApiKey);
public sealed record CreatedChannel(Guid Id, string Name, string Status, string Secret, DateTime CreatedAt);
public sealed record ChannelSecret(string Secret);
public sealed record ChannelRow(Guid Id, Guid TenantId, string Name, string Status, DateTime CreatedAt, DateTime UpdatedAt);
public sealed record ConversationRow(Guid Id, Guid TenantId, string TenantName, Guid ChannelId, string ChannelName, string Status,
    long Activities, DateTime CreatedAt, DateTime UpdatedAt, DateTime? ClosedAt);
public sealed record ActivityRow(string Id, long Seq, string Type, string FromId, string? FromName, string? Text, string? Name,
    int Attachments, string? ReplyToId, DateTime Timestamp);
public sealed record ActivitiesPage(IReadOnlyList<ActivityRow> Activities, long LastSeq);
public sealed record MinuteCount(DateTime Minute, long Count);
public sealed record OverviewFigures(int ActiveTenants, int InactiveTenants, long ActiveConversations, long ActivitiesLastMinute,
    IReadOnlyList<MinuteCount> ActivitiesPerMinute, long? FailedJobsLastHour, DateTime At, long? OpenConnections = null);
public sealed record CivicCityRow(Guid Id, Guid TenantId, string TenantName, string Slug, string Name, DateTime CreatedAt,
    string? LastRunStatus, DateTime? LastRunAt);
public sealed record RunView(Guid Id, Guid CityId, Guid? MeetingId, Guid? ArtifactId, string Trigger, string Status, JsonElement Stages,
    JsonElement? Gate, string? Error, string? TraceId, DateTime CreatedAt, DateTime? FinishedAt);
public sealed record RunAccepted(Guid RunId);
public sealed record SafetyFlagRow(Guid Id, Guid TenantId, string TenantName, string TextKind, IReadOnlyList<string> Categories,
    string? Excerpt, DateTime CreatedAt);
public sealed record ChannelDeliveries(string Channel, long Sent, long Failed, long Pending, long Suppressed);
public sealed record NotificationHealthFigures(long PendingDeliveries, double? OldestPendingAgeSeconds, long OutboxLastDay,
    IReadOnlyList<ChannelDeliveries> LastDay, int DisabledWebhooks, DateTime At);
public sealed record DisabledAddressRow(Guid TenantId, string TenantName, string UserId, string MaskedEmail, string? Reason, string? Source,
    DateTime DisabledAt);
public sealed record DisabledWebhookRow(Guid Id, Guid TenantId, string TenantName, string Url, int FailureStreak, DateTime DisabledAt, DateTime CreatedAt);
public sealed record CommunityTenantRow(Guid TenantId, string TenantName, DateTime CreatedAt, int Members,
    IReadOnlyDictionary<string, int> ConsentsGranted, DateTime? LastRankingAt, string? LastRankingAlgorithm, string? LastRankingVersion,
    string? LastRankingInputHash, int? LastRankingSignals, long ProvenanceEvents);
public sealed record ProvenanceCheck(Guid TenantId, bool Ok, long Checked, Guid? FirstBrokenEventId, DateTime At);
public sealed record ConferenceRow(Guid Id, Guid TenantId, string TenantName, string Name, DateTime CreatedAt,
    int Attendees, int ConsentToMatch, DateTime? LastMatchAt, int AttendeesMatched, int Gatherings, int UpcomingGatherings,
    int ReportsPending, int ReportsCompleted, int ReportsFailed, DateTime? LastReportAt, string? LastReportStatus);
public sealed record ImpactCompanyRow(Guid Id, Guid TenantId, string TenantName, string Name, DateTime CreatedAt,
    int People, int Texts, int TextsScored, DateTime? LastScoredAt, string? ModelVersion, int Imports);
public sealed record MembershipRow(string Role, string? ScopeId);
public sealed record IdentityUserRow(Guid Id, string Email, IReadOnlyList<MembershipRow> Roles);
public sealed record RoleChangeRow(Guid UserId, string? Email, string Action, string Role, string? ScopeId, string Actor, DateTime ChangedAt);
public sealed record RoleChangeList(IReadOnlyList<RoleChangeRow> Items);
public sealed record ImportLineError(int Line, string Column, string Message);
public sealed record ImpactImportRow(Guid Id, Guid TenantId, string TenantName, Guid CompanyId, string CompanyName, string Kind,
    DateTime CreatedAt, int Rows, int Imported, int Rejected, IReadOnlyList<ImportLineError> Errors);
public sealed record WebhookRejectionRow(long Id, Guid? TenantId, string? TenantName, string Source, string Reason, string? RemoteIp,
    DateTime WindowStart, int Attempts, DateTime LastAt);
public sealed record PrivacyRequestRow(Guid Id, Guid TenantId, string TenantName, Guid SubjectId, string Kind, string Status,
    string RequestedBy, DateTime RequestedAt, DateTime? CompletedAt);

/// <summary>
/// The panel's only way to data: Api over HTTP (<c>http://api</c> through service discovery and the standard
/// resilience handler), authenticated with the operator key. The panel never opens a database connection.
/// </summary>
public sealed class PlatformApi
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http;

    public PlatformApi(HttpClient http, IOptions<PlatformApiOptions> options)
    {
        _http = http;
        _http.BaseAddress ??= new Uri("http://api");
        if (!string.IsNullOrEmpty(options.Value.OperatorKey))
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.Value.OperatorKey);
        }
    }

    // Overview and tenants
    public Task<OverviewFigures> OverviewAsync(CancellationToken ct = default) => GetAsync<OverviewFigures>("/v1/admin/overview", ct);

    public Task<Page<TenantRow>> TenantsAsync(string? search, string? cursor, int limit, CancellationToken ct = default) =>
        GetAsync<Page<TenantRow>>($"/v1/admin/tenants{Query(("search", search), ("cursor", cursor), ("limit", limit.ToString()))}", ct);

    public Task<TenantRow?> TenantAsync(Guid id, CancellationToken ct = default) => FindAsync<TenantRow>($"/v1/admin/tenants/{id}", ct);

    public Task<CreatedTenant> CreateTenantAsync(string name, CancellationToken ct = default) =>
        SendAsync<CreatedTenant>(HttpMethod.Post, "/v1/tenants", new { name }, ct);

    public Task SetTenantStatusAsync(Guid id, string status, CancellationToken ct = default) =>
        SendAsync<JsonElement>(HttpMethod.Patch, $"/v1/tenants/{id}", new { status }, ct);

    public Task<IReadOnlyList<ApiKeyRow>> ApiKeysAsync(Guid tenantId, CancellationToken ct = default) =>
        GetAsync<IReadOnlyList<ApiKeyRow>>($"/v1/admin/tenants/{tenantId}/api-keys", ct);

    public Task<CreatedApiKey> CreateApiKeyAsync(Guid tenantId, CancellationToken ct = default) =>
        SendAsync<CreatedApiKey>(HttpMethod.Post, $"/v1/tenants/{tenantId}/api-keys", null, ct);

    public Task RevokeApiKeyAsync(Guid tenantId, Guid keyId, CancellationToken ct = default) =>
        SendAsync<JsonElement>(HttpMethod.Delete, $"/v1/tenants/{tenantId}/api-keys/{keyId}", null, ct);

    // Channels, conversations, activities
    public Task<Page<ChannelRow>> ChannelsAsync(Guid tenantId, string? search, string? cursor, int limit, CancellationToken ct = default) =>
        GetAsync<Page<ChannelRow>>($"/v1/admin/tenants/{tenantId}/channels{Query(("search", search), ("cursor", cursor), ("limit", limit.ToString()))}", ct);

    public Task<CreatedChannel> CreateChannelAsync(Guid tenantId, string name, CancellationToken ct = default) =>
        SendAsync<CreatedChannel>(HttpMethod.Post, $"/v1/admin/tenants/{tenantId}/channels", new { name }, ct);

    public Task SetChannelStatusAsync(Guid tenantId, Guid channelId, string status, CancellationToken ct = default) =>
        SendAsync<JsonElement>(HttpMethod.Patch, $"/v1/admin/tenants/{tenantId}/channels/{channelId}", new { status }, ct);

    public async Task<string> RotateChannelSecretAsync(Guid tenantId, Guid channelId, CancellationToken ct = default) =>
        (await SendAsync<ChannelSecret>(HttpMethod.Post, $"/v1/admin/tenants/{tenantId}/channels/{channelId}/secret", null, ct)).Secret;

    public Task<Page<ConversationRow>> ConversationsAsync(Guid tenantId, Guid? channelId, string? status, string? cursor, int limit, CancellationToken ct = default) =>
        GetAsync<Page<ConversationRow>>($"/v1/admin/tenants/{tenantId}/conversations{Query(("channelId", channelId?.ToString()), ("status", status), ("cursor", cursor), ("limit", limit.ToString()))}", ct);

    public Task<ConversationRow?> ConversationAsync(Guid id, CancellationToken ct = default) => FindAsync<ConversationRow>($"/v1/admin/conversations/{id}", ct);

    public Task<ActivitiesPage?> ActivitiesAsync(Guid conversationId, long? after, long? before, int limit, CancellationToken ct = default) =>
        FindAsync<ActivitiesPage>($"/v1/admin/conversations/{conversationId}/activities{Query(("after", after?.ToString()), ("before", before?.ToString()), ("limit", limit.ToString()))}", ct);

    // Jobs (read from Hangfire and the outbox by Api)
    public Task<JobStats> JobStatsAsync(CancellationToken ct = default) => GetAsync<JobStats>("/v1/admin/jobs/stats", ct);

    public Task<JobView?> JobAsync(long id, CancellationToken ct = default) => FindAsync<JobView>($"/v1/admin/jobs/{id}", ct);

    public Task RetryJobAsync(long id, CancellationToken ct = default) => SendAsync<JobView>(HttpMethod.Post, $"/v1/admin/jobs/{id}/retry", null, ct);

    public Task CancelJobAsync(long id, CancellationToken ct = default) => SendAsync<JobView>(HttpMethod.Post, $"/v1/admin/jobs/{id}/cancel", null, ct);

    public async Task<long> EnqueueCanaryAsync(int failTimes, int maxAttempts, CancellationToken ct = default) =>
        (await SendAsync<JobAccepted>(HttpMethod.Post, "/v1/admin/jobs/canary", new { failTimes, maxAttempts }, ct)).JobId;

    public Task<IReadOnlyList<ScheduleView>> SchedulesAsync(CancellationToken ct = default) =>
        GetAsync<IReadOnlyList<ScheduleView>>("/v1/admin/schedules", ct);

    public Task ScheduleActionAsync(string name, string action, CancellationToken ct = default) =>
        SendAsync<JsonElement>(HttpMethod.Post, $"/v1/admin/schedules/{Uri.EscapeDataString(name)}/{action}", null, ct);

    // Civic pipeline runs: the cross-tenant city list, then the ops endpoints under /v1/internal
    public Task<Page<CivicCityRow>> CivicCitiesAsync(string? cursor, int limit, CancellationToken ct = default) =>
        GetAsync<Page<CivicCityRow>>($"/v1/admin/civic/cities{Query(("cursor", cursor), ("limit", limit.ToString()))}", ct);

    public Task<IReadOnlyList<RunView>> CityRunsAsync(Guid cityId, int limit, CancellationToken ct = default) =>
        GetAsync<IReadOnlyList<RunView>>($"/v1/internal/cities/{cityId}/runs{Query(("limit", limit.ToString()))}", ct);

    public async Task<Guid> RerunMeetingAsync(Guid meetingId, CancellationToken ct = default) =>
        (await SendAsync<RunAccepted>(HttpMethod.Post, $"/v1/internal/meetings/{meetingId}/rerun", null, ct)).RunId;

    // End users of a tenant and their roles (the identity module); every change lands in the tenant's role audit.
    public Task<Page<IdentityUserRow>> IdentityUsersAsync(Guid tenantId, string? cursor, int limit, CancellationToken ct = default) =>
        GetAsync<Page<IdentityUserRow>>($"/v1/admin/tenants/{tenantId}/identity/users{Query(("cursor", cursor), ("limit", limit.ToString()))}", ct);

    public Task GrantRoleAsync(Guid tenantId, Guid userId, string role, string? scopeId, CancellationToken ct = default) =>
        SendAsync<JsonElement>(HttpMethod.Post, $"/v1/admin/tenants/{tenantId}/identity/users/{userId}/roles", new { role, scopeId }, ct);

    public Task RemoveRoleAsync(Guid tenantId, Guid userId, string role, string? scopeId, CancellationToken ct = default) =>
        SendAsync<JsonElement>(HttpMethod.Post, $"/v1/admin/tenants/{tenantId}/identity/users/{userId}/roles/remove", new { role, scopeId }, ct);

    public Task<RoleChangeList> RoleChangesAsync(Guid tenantId, int limit, CancellationToken ct = default) =>
        GetAsync<RoleChangeList>($"/v1/admin/tenants/{tenantId}/identity/role-changes{Query(("limit", limit.ToString()))}", ct);

    // Safety review queue, across tenants
    public Task<Page<SafetyFlagRow>> SafetyFlagsAsync(string? cursor, int limit, CancellationToken ct = default) =>
        GetAsync<Page<SafetyFlagRow>>($"/v1/admin/safety/flags{Query(("cursor", cursor), ("limit", limit.ToString()))}", ct);

    public Task ReviewSafetyFlagAsync(Guid id, string decision, string? note, CancellationToken ct = default) =>
        SendAsync<JsonElement>(HttpMethod.Post, $"/v1/admin/safety/flags/{id}/review", new { decision, note }, ct);

    // Notifications across tenants
    public Task<NotificationHealthFigures> NotificationHealthAsync(CancellationToken ct = default) =>
        GetAsync<NotificationHealthFigures>("/v1/admin/notifications/health", ct);

    public Task<IReadOnlyList<DisabledAddressRow>> DisabledAddressesAsync(int limit, CancellationToken ct = default) =>
        GetAsync<IReadOnlyList<DisabledAddressRow>>($"/v1/admin/notifications/email/disabled{Query(("limit", limit.ToString()))}", ct);
    public Task<Page<DisabledWebhookRow>> DisabledWebhooksAsync(string? cursor, int limit, CancellationToken ct = default) =>
        GetAsync<Page<DisabledWebhookRow>>($"/v1/admin/notifications/webhooks/disabled{Query(("cursor", cursor), ("limit", limit.ToString()))}", ct);

    public Task EnableWebhookAsync(Guid id, CancellationToken ct = default) =>
        SendAsync<JsonElement>(HttpMethod.Post, $"/v1/admin/notifications/webhooks/{id}/enable", null, ct);

    public Task ReplayNotificationAsync(long outboxId, CancellationToken ct = default) =>
        SendAsync<JsonElement>(HttpMethod.Post, $"/v1/internal/notifications/replay/{outboxId}", null, ct);

    // Module pages across tenants: Community (Convener), Conferences, Impact
    public Task<Page<CommunityTenantRow>> CommunityTenantsAsync(string? cursor, int limit, CancellationToken ct = default) =>
        GetAsync<Page<CommunityTenantRow>>($"/v1/admin/community/tenants{Query(("cursor", cursor), ("limit", limit.ToString()))}", ct);

    public Task<ProvenanceCheck> VerifyProvenanceAsync(Guid tenantId, CancellationToken ct = default) =>
        GetAsync<ProvenanceCheck>($"/v1/admin/community/tenants/{tenantId}/provenance", ct);

    public Task<Page<ConferenceRow>> ConferencesAsync(string? cursor, int limit, CancellationToken ct = default) =>
        GetAsync<Page<ConferenceRow>>($"/v1/admin/conferences{Query(("cursor", cursor), ("limit", limit.ToString()))}", ct);

    public Task<Page<ImpactCompanyRow>> ImpactCompaniesAsync(string? cursor, int limit, CancellationToken ct = default) =>
        GetAsync<Page<ImpactCompanyRow>>($"/v1/admin/impact/companies{Query(("cursor", cursor), ("limit", limit.ToString()))}", ct);

    public Task<Page<ImpactImportRow>> ImpactImportsAsync(bool withErrors, string? cursor, int limit, CancellationToken ct = default) =>
        GetAsync<Page<ImpactImportRow>>($"/v1/admin/impact/imports{Query(("withErrors", withErrors ? "true" : null), ("cursor", cursor), ("limit", limit.ToString()))}", ct);

    public Task<Page<WebhookRejectionRow>> WebhookRejectionsAsync(string? cursor, int limit, CancellationToken ct = default) =>
        GetAsync<Page<WebhookRejectionRow>>($"/v1/admin/impact/webhook-rejections{Query(("cursor", cursor), ("limit", limit.ToString()))}", ct);

    public Task<Page<PrivacyRequestRow>> PrivacyRequestsAsync(string? cursor, int limit, CancellationToken ct = default) =>
        GetAsync<Page<PrivacyRequestRow>>($"/v1/admin/impact/privacy-requests{Query(("cursor", cursor), ("limit", limit.ToString()))}", ct);

    private Task<T> GetAsync<T>(string path, CancellationToken ct) => SendAsync<T>(HttpMethod.Get, path, null, ct)!;

    private async Task<T?> FindAsync<T>(string path, CancellationToken ct) where T : class
    {
        try
        {
            return await SendAsync<T>(HttpMethod.Get, path, null, ct);
        }
        catch (PlatformApiException e) when (e.Status is HttpStatusCode.NotFound or HttpStatusCode.BadRequest)
        {
            return null;
        }
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: Json);
        }
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, ct);
        }
        catch (Exception e) when (e is HttpRequestException or Polly.ExecutionRejectedException
                                   || (e is TaskCanceledException && !ct.IsCancellationRequested))
        {
            // Unreachable, timed out or circuit open after the resilience handler's retries: a page shows this
            // as an error panel instead of failing the whole request.
            throw new PlatformApiException(HttpStatusCode.ServiceUnavailable, $"Api is not reachable ({e.Message})");
        }
        using var _ = response;
        if (!response.IsSuccessStatusCode)
        {
            throw new PlatformApiException(response.StatusCode, await DescribeAsync(response, ct));
        }
        if (response.StatusCode == HttpStatusCode.NoContent || response.Content.Headers.ContentLength == 0)
        {
            return default!;
        }
        return (await response.Content.ReadFromJsonAsync<T>(Json, ct))!;
    }

    private static async Task<string> DescribeAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        try
        {
            if (JsonNode.Parse(text) is JsonObject problem)
            {
                var detail = problem["detail"]?.ToString() ?? problem["title"]?.ToString();
                if (!string.IsNullOrWhiteSpace(detail))
                {
                    return detail;
                }
            }
        }
        catch (JsonException)
        {
        }
        return $"Api answered {(int)response.StatusCode} {response.ReasonPhrase}.";
    }

    private static string Query(params (string Key, string? Value)[] pairs)
    {
        var parts = pairs.Where(p => !string.IsNullOrWhiteSpace(p.Value))
            .Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value!)}").ToArray();
        return parts.Length == 0 ? "" : "?" + string.Join('&', parts);
    }
}
