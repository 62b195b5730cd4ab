using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Platform.Core.Events.Matching;

namespace Platform.Core.Events;

public sealed record ConversationStarterRequest(Guid? ConferenceId, string? UserId, string? MatchUserId);

/// <summary><see cref="Source"/> is <c>template</c> or <c>model</c>; a model that failed leaves the template's starters and the reason.</summary>
public sealed record ConversationStarterSet(Guid ConferenceId, string UserId, string MatchUserId, string Source, string? Model, IReadOnlyList<string> Starters,
    IReadOnlyList<string> Reasons, string? FallbackReason);

/// <summary>
/// Openers for two attendees. By default a template over what the matcher found they share (the same reasons the
/// recommendations show). When a chat model is configured (<c>Platform:Models:Chat</c>, the shared
/// <see cref="IChatClient"/>), the model writes three openers from those facts only — names, companies, roles and the
/// reasons; a bio goes no further than the terms both profiles share, which the reasons already name. A timeout, an
/// error or an answer that is not the JSON asked for falls back to the template.
/// </summary>
public sealed partial class ConversationStarters(ILogger<ConversationStarters> logger, IChatClient? chat = null)
{
    public const string PromptVersion = "conversation-starters-v1";
    public static readonly TimeSpan ModelTimeout = TimeSpan.FromSeconds(10);

    public const string SystemPrompt =
        "You write short, friendly conversation openers for one conference attendee to use with another. Answer only JSON: " +
        "{\"starters\": [three strings of at most 200 characters]}. Use only the facts given; do not invent names, employers or events.";

    public bool UsesModel => chat is not null;

    public async Task<ConversationStarterSet> ForAsync(Conference conference, Attendee user, Attendee match, MatchingIndex index, CancellationToken ct)
    {
        var (reasons, starter) = ReciprocalMatcher.Explain(index, index.PositionOf(user.UserId), index.PositionOf(match.UserId));
        IReadOnlyList<string> template = [.. new[] { starter, $"Ask {match.DisplayName} what brought them to {conference.Name}." }.Distinct(StringComparer.Ordinal)];
        if (chat is null)
        {
            return new ConversationStarterSet(conference.Id, user.UserId, match.UserId, "template", null, template, reasons, null);
        }
        var facts = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["conference"] = conference.Name,
            ["you"] = new Dictionary<string, object?> { ["name"] = user.DisplayName, ["company"] = user.Company, ["role"] = user.Role },
            ["them"] = new Dictionary<string, object?> { ["name"] = match.DisplayName, ["company"] = match.Company, ["role"] = match.Role },
            ["whyYouMatch"] = reasons,
        });
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(ModelTimeout);
        try
        {
            var response = await chat.GetResponseAsync([new ChatMessage(ChatRole.System, SystemPrompt), new ChatMessage(ChatRole.User, facts)],
                new ChatOptions { Temperature = 0.7f, ResponseFormat = ChatResponseFormat.Json }, timeout.Token);
            using var answer = JsonDocument.Parse(StripFence(response.Text));
            var starters = answer.RootElement.GetProperty("starters").EnumerateArray()
                .Select(s => s.GetString()?.Trim()).Where(s => !string.IsNullOrEmpty(s)).Select(s => s!.Length > 200 ? s[..200] : s).Take(3).ToList();
            if (starters.Count == 0)
            {
                throw new InvalidDataException("the model answered no starters");
            }
            return new ConversationStarterSet(conference.Id, user.UserId, match.UserId, "model", response.ModelId, starters, reasons, null);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested && ex is not OutOfMemoryException)
        {
            var reason = ex is OperationCanceledException ? $"timed out after {ModelTimeout.TotalSeconds:0} s" : ex.Message;
            LogFallback(logger, reason);
            return new ConversationStarterSet(conference.Id, user.UserId, match.UserId, "template", null, template, reasons, reason);
        }
    }

    private static string StripFence(string text)
    {
        var t = text.Trim();
        if (!t.StartsWith("```", StringComparison.Ordinal)) return t;
        var first = t.IndexOf('\n', StringComparison.Ordinal);
        var last = t.LastIndexOf("```", StringComparison.Ordinal);
        return first >= 0 && last > first ? t[(first + 1)..last] : t;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Conversation starters fell back to the template: {Reason}")]
    private static partial void LogFallback(ILogger logger, string reason);
}
