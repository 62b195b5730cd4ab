using System.Text.Json;
using Npgsql;
using Platform.Core.Data;

namespace Platform.Core.Civic;

// What the civic endpoints answer with: these records are the JSON bodies (camelCase, nulls written).

public sealed record CitySourceView(Guid Id, string Kind, string Location, DateTimeOffset? LastCheckedAt, DateTimeOffset? LastSuccessAt, string? LastError);
public sealed record CityView(Guid Id, string Slug, string Name, string? Cron, DateTimeOffset? NextScanAt, IReadOnlyList<CitySourceView> Sources);
public sealed record MeetingListItem(Guid Id, Guid CityId, string MeetingUid, string Title, DateOnly? MeetingDate, string Status, DateTimeOffset? PublishedAt);
public sealed record MeetingPage(IReadOnlyList<MeetingListItem> Items, string? NextCursor);
public sealed record SummaryView(Guid Id, int Version, string ShortSummary, JsonElement KeyDecisions, JsonElement NotableTopics,
    string ConfidenceLabel, double EvidenceCoverage, string Summarizer, DateTimeOffset CreatedAt, string? Model, string? PromptVersion, string? FallbackReason);
public sealed record MeetingView(Guid Id, Guid CityId, string MeetingUid, string Title, DateOnly? MeetingDate, string Status,
    DateTimeOffset? PublishedAt, Guid ArtifactId, SummaryView? Summary);
public sealed record EvidenceView(Guid ArtifactId, string SectionRef, int Start, int End, string Excerpt, int? Page);
public sealed record ClaimView(int Ordinal, string Kind, string Text, IReadOnlyList<EvidenceView> Evidence);
public sealed record MeetingEvidence(Guid MeetingId, int Version, IReadOnlyList<ClaimView> Claims);
public sealed record ProfileView(string UserId, string? DisplayName, string? Email, Guid? HomeCityId, bool NotificationsEnabled, DateTimeOffset? PauseUntil);
public sealed record ProfilePatch(string? DisplayName, string? Email, Guid? HomeCityId, bool? NotificationsEnabled, DateTimeOffset? PauseUntil, bool? ClearPause);
public sealed record RunView(Guid Id, Guid CityId, Guid? MeetingId, Guid? ArtifactId, string Trigger, string Status, JsonElement Stages,
    JsonElement? Gate, string? Error, string? TraceId, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt);

/// <summary>A source of a new city, as the caller validated it.</summary>
public sealed record NewCitySource(string Kind, string Location);

internal static class CivicJson
{
    /// <summary>A jsonb column read as text, kept as a detached element.</summary>
    public static JsonElement Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }
}

/// <summary>
/// The connection scope of civic reads and writes: a tenant caller's own tenant, or every tenant (null) for the operator,
/// whose civic operations (scans, reruns, run ledgers) span all cities.
/// </summary>
internal static class CivicScope
{
    private const string OperatorReason = "operator's civic operations across tenants";

    public static Task<NpgsqlConnection> OpenAsync(NpgsqlDataSource db, Guid? tenant, CancellationToken ct) =>
        tenant is { } t ? db.OpenForTenantAsync(t, ct) : db.OpenSystemScopeAsync(OperatorReason, ct);

    public static async Task<ScopedCommand> CommandAsync(NpgsqlDataSource db, Guid? tenant, string sql, CancellationToken ct) =>
        tenant is { } t ? await db.CreateTenantCommandAsync(t, sql, ct) : await db.CreateSystemCommandAsync(OperatorReason, sql, ct);
}
