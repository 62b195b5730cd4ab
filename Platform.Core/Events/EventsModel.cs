using System.Text.Json;
using System.Text.Json.Serialization;
using Platform.Core.Events.Matching;

namespace Platform.Core.Events;

/// <summary>How the conference presents itself (report pages, clients). Colours are #rrggbb.</summary>
public sealed record Branding(string? DisplayName = null, string? PrimaryColor = null, string? AccentColor = null, string? LogoUrl = null);

/// <summary>Features a conference may switch off; a switched-off feature answers 403 for that conference.</summary>
public sealed record ConferenceFeatures(bool Matchmaking = true, bool Gatherings = true, bool Presence = true, bool Reports = true);

/// <summary>Per-conference limits applied by Api: attendee cap (409 beyond it) and calls per minute (429 beyond it).</summary>
public sealed record ConferenceLimits(int? AttendeeCap = null, int? RequestsPerMinute = null);

public sealed record Conference(Guid Id, string Name, Branding Branding, ConferenceFeatures Features, ConferenceLimits Limits,
    MatchWeights Weights, long Revision, DateTimeOffset CreatedAt);

public sealed record ConferenceRequest(string? Name, Branding? Branding, ConferenceFeatures? Features, ConferenceLimits? Limits);

public sealed record ConferencePage(IReadOnlyList<Conference> Conferences);

public static class AttendeeKinds
{
    public const string Attendee = "attendee";
    public const string Speaker = "speaker";
    public const string Exhibitor = "exhibitor";
    public static readonly string[] All = [Attendee, Speaker, Exhibitor];
}

/// <summary>The body of <c>PUT …/attendees/{userId}</c>: the whole profile (absent lists are empty).</summary>
public sealed record AttendeeRequest(
    string? DisplayName, string? Kind, string? Company, string? Role, string? Industry, string? Bio,
    IReadOnlyList<string>? Skills, IReadOnlyDictionary<string, double>? Interests, IReadOnlyList<string>? Offering, IReadOnlyList<string>? Seeking,
    IReadOnlyList<AvailabilitySlot>? Availability, bool? ConsentToMatch, bool? ConsentToInvites);

public sealed record Attendee(
    Guid ConferenceId, string UserId, string DisplayName, string Kind, string? Company, string? Role, string? Industry, string? Bio,
    IReadOnlyList<string> Skills, IReadOnlyDictionary<string, double> Interests, IReadOnlyList<string> Offering, IReadOnlyList<string> Seeking,
    IReadOnlyList<AvailabilitySlot> Availability, bool ConsentToMatch, bool ConsentToInvites, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    /// <summary>What the matcher sees: role, industry and skills join the bio as profile text for TF-IDF.</summary>
    public AttendeeProfile ToProfile() => new(UserId, DisplayName, Company, Interests, Offering, Seeking,
        string.Join(' ', new[] { Bio, Role, Industry }.Concat(Skills).Where(s => !string.IsNullOrWhiteSpace(s))), ConsentToMatch, Skills);

    public GatheringCandidate ToCandidate() => new(UserId, [.. Interests.Keys], Availability, ConsentToInvites);
}

/// <summary>The jsonb column of a profile: the list-valued parts.</summary>
public sealed record ProfileDocument(
    IReadOnlyList<string> Skills, IReadOnlyDictionary<string, double> Interests, IReadOnlyList<string> Offering, IReadOnlyList<string> Seeking,
    IReadOnlyList<AvailabilitySlot> Availability);

public sealed record AttendeeList(IReadOnlyList<Attendee> Attendees);

public sealed record RecommendedMatch(
    string UserId, string DisplayName, string? Company, double Score, double ScoreForUser, double ScoreForMatch,
    IReadOnlyList<string> Reasons, string ConversationStarter);

/// <summary><see cref="EmbeddingModel"/>: the model behind the semantic feature (null when embeddings were unavailable).</summary>
public sealed record Recommendations(Guid ConferenceId, string UserId, string Algorithm, MatchWeights Weights, IReadOnlyList<RecommendedMatch> Matches,
    string? EmbeddingModel = null);

public sealed record FeedbackRequest(Guid? ConferenceId, string? UserId, string? MatchUserId, string? Outcome);

public sealed record FeedbackRecorded(long Id, Guid ConferenceId, string UserId, string MatchUserId, string Outcome, MatchFeatures Features,
    double PairScore, MatchWeights WeightsBefore, MatchWeights WeightsAfter);

public sealed record CalculateRequest(Guid? ConferenceId, string? UserId);

public sealed record CalculationQueued(long JobId, bool Duplicate);

public sealed record GatheringRequest(Guid? ConferenceId, string? Topic, IReadOnlyList<string>? Tags, string? Place, DateTimeOffset? StartsAt,
    DateTimeOffset? EndsAt, int? Capacity, bool? AutoInvite);

public sealed record Invitation(string UserId, string Status, string Source, DateTimeOffset InvitedAt, DateTimeOffset? RespondedAt);

public sealed record Gathering(Guid Id, Guid ConferenceId, string Topic, IReadOnlyList<string> Tags, string Place, DateTimeOffset StartsAt,
    DateTimeOffset EndsAt, int Capacity, int Accepted, IReadOnlyList<Invitation> Invitations, DateTimeOffset CreatedAt);

public sealed record InviteSuggestions(Guid GatheringId, string Algorithm, int FreeSeats, IReadOnlyList<string> Invitees);

public sealed record InviteRequest(IReadOnlyList<string>? UserIds);

public sealed record InvitesSent(Guid GatheringId, IReadOnlyList<string> Invited, string Delivery);

/// <summary>The payload of an <c>events.gathering-invite</c> notification.</summary>
public sealed record GatheringInvite(Guid GatheringId, Guid ConferenceId, string Topic, string Place, DateTimeOffset StartsAt, DateTimeOffset EndsAt);

public sealed record RsvpRequest(string? UserId, string? Response);

public sealed record GatheringSuggestions(Guid ConferenceId, string Algorithm, IReadOnlyList<GatheringSuggestion> Suggestions);

public sealed record PresenceStatus(string UserId, string Status, int Connections, DateTimeOffset? LastSeenAt);

public sealed record ReportRequest(Guid? ConferenceId, int? ShareDays = null);

public sealed record ReportStatus(Guid Id, Guid ConferenceId, string Status, long? JobId, string ShareUrl, DateTimeOffset CreatedAt,
    DateTimeOffset? CompletedAt, IntelligenceReport? Report, DateTimeOffset ShareExpiresAt);

/// <summary>What a share token finds: the page, or that the link has expired (410) or was never valid (404).</summary>
public sealed record SharedReport(bool Expired, string? Html);

public sealed record StreamTokenIssued(string Token, int ExpiresIn, string StreamUrl);

public sealed record Networker(string UserId, string DisplayName, int Rank, double Score);

public sealed record EmergingTopic(string Topic, int Early, int Late, double Growth);

public sealed record Lead(string UserId, string DisplayName, double Score);

public sealed record ExhibitorLeads(string ExhibitorId, string DisplayName, int Leads, double LeadScore, IReadOnlyList<Lead> TopLeads);

/// <summary>The numbers of one intelligence report (definitions in docs/events.md).</summary>
public sealed record IntelligenceReport(
    Guid ConferenceId, string ConferenceName, DateTimeOffset GeneratedAt, int Attendees, IReadOnlyDictionary<string, int> AttendeesByKind,
    int ConnectionsMade, double AverageMatchScore, double AcceptedMatchRate, int FeedbackCount,
    IReadOnlyList<Networker> TopNetworkers, IReadOnlyList<EmergingTopic> EmergingTopics, IReadOnlyList<ExhibitorLeads> ExhibitorLeads,
    string Algorithms);

/// <summary>Live updates on a conference's Realtime channel (gatherings, presence).</summary>
public sealed record EventUpdate(string Type, Guid? ConferenceId, string? UserId, string? Status, Gathering? Gathering);

/// <summary>Source-generated JSON for every events body, stored document and live frame.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ConferenceRequest))]
[JsonSerializable(typeof(Conference))]
[JsonSerializable(typeof(ConferencePage))]
[JsonSerializable(typeof(Branding))]
[JsonSerializable(typeof(ConferenceFeatures))]
[JsonSerializable(typeof(ConferenceLimits))]
[JsonSerializable(typeof(AttendeeRequest))]
[JsonSerializable(typeof(Attendee))]
[JsonSerializable(typeof(AttendeeList))]
[JsonSerializable(typeof(ProfileDocument))]
[JsonSerializable(typeof(Recommendations))]
[JsonSerializable(typeof(FeedbackRequest))]
[JsonSerializable(typeof(FeedbackRecorded))]
[JsonSerializable(typeof(CalculateRequest))]
[JsonSerializable(typeof(CalculationQueued))]
[JsonSerializable(typeof(GatheringRequest))]
[JsonSerializable(typeof(Gathering))]
[JsonSerializable(typeof(InviteSuggestions))]
[JsonSerializable(typeof(InviteRequest))]
[JsonSerializable(typeof(InvitesSent))]
[JsonSerializable(typeof(RsvpRequest))]
[JsonSerializable(typeof(GatheringInvite))]
[JsonSerializable(typeof(GatheringSuggestions))]
[JsonSerializable(typeof(PresenceStatus))]
[JsonSerializable(typeof(ReportRequest))]
[JsonSerializable(typeof(ReportStatus))]
[JsonSerializable(typeof(IntelligenceReport))]
[JsonSerializable(typeof(StreamTokenIssued))]
[JsonSerializable(typeof(EventUpdate))]
[JsonSerializable(typeof(List<string>))]
public sealed partial class EventsJsonContext : JsonSerializerContext;
