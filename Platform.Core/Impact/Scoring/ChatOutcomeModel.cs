using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.AI;
using Platform.Core.Ai;

namespace Platform.Core.Impact.Scoring;

/// <summary>
/// Outcome scoring by a chat model (<c>outcome-chat/1+&lt;model&gt;</c>) behind the shared <see cref="IChatClient"/>
/// (<c>Platform:Models:Chat</c>). The model reads one text with the label definitions below and answers, in the JSON
/// schema it is given, the outcomes the text shows, each with a verbatim quote. Only what can be checked is kept:
/// a quote is located in the text (exact, ordinal) for its offset and SHA-256, and a quote that is not in the text is
/// dropped, so a dimension whose every quote was invented abstains. Each kept quote contributes +1 or −1 and the score
/// combines them as the classifier does (0.5 + 0.5·tanh(2·Σ)), so the labels read alike: quotes of both signs on one
/// dimension make it mixed. A transport error, a timeout or an answer that is not the JSON asked for throws, so the
/// scoring job's batch rolls back and its retry scores the texts again: scores are never silently half from another model.
/// </summary>
public sealed class ChatOutcomeModel(IChatClient chat, string model, int maxConcurrency = 4) : IOutcomeModel
{
    /// <summary>The prompt's version; it is part of <see cref="ModelVersion"/> so that a changed prompt is a new model.</summary>
    public const string PromptVersion = "outcome-chat/1";

    public const string SystemPrompt = """
        You read one note from a social-impact programme (newcomers learning the host language, mentoring, volunteering,
        job coaching), written by a participant about themselves or by a volunteer or staff member about a participant.
        Report only the outcomes the note gives evidence of, for the participant, on these five dimensions:
        - confidence: self-confidence, courage, self-efficacy, daring to speak or act, doing things independently (positive);
          shyness, fear of speaking up, self-doubt, feeling not good enough, relying on others to speak for them (negative).
        - belonging: feeling welcome, included, part of a group, friendships, people to turn to (positive); loneliness,
          isolation, exclusion, being ignored, discrimination felt (negative).
        - lang_level_proxy: ability in the host language: understanding, speaking, reading, writing, passing language
          tests, managing conversations in the language (positive); not understanding, needing an interpreter, struggling
          with words, failing a language test (negative).
        - job_readiness: steps toward or into work: CV, applications, interviews, offers, internships, work trials, a new
          job, more hours, workplace skills, certificates for work (positive); rejections, a lost job, no responses, not
          ready for work, skipping job activities (negative). Housing, school or benefit paperwork is not job readiness.
        - well_being: mood, mental and physical health, sleep, stress, energy, feeling calm or safe (positive); stress,
          sadness, poor sleep, exhaustion, anxiety, feeling unsafe or overwhelmed (negative). Nervousness about speaking or
          performing is confidence, not well-being.
        Rules: a past state that has changed counts as the change ("I used to be scared to speak, now I talk in meetings"
        is confidence positive; "I was nervous but I answered every question" is confidence positive). Negation flips
        ("no longer lonely" is belonging positive). Sarcasm counts by what is meant ("Oh great, another rejection email"
        is job_readiness negative). Hopes, plans and wishes with no achieved change or present state are not outcomes.
        Logistics, schedules, thanks and news about other people are not outcomes. One passage may show several dimensions.
        For every outcome give the dimension, its direction (positive or negative) and a quote: the shortest passage of
        the note that shows it, copied character for character. Give no outcome for a dimension the note says nothing about.
        """;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) } };

    private static readonly ChatResponseFormat Format = ChatResponseFormat.ForJsonSchema(
        AIJsonUtilities.CreateJsonSchema(typeof(ChatOutcomeAnswer), serializerOptions: Json), "outcomes",
        "The outcomes one programme note gives evidence of, each with a verbatim quote.");

    private int _rejectedQuotes;

    public string ModelVersion { get; } = $"{PromptVersion}+{model}";

    /// <summary>Quotes dropped so far because they were not in the text they claimed to quote.</summary>
    public int RejectedQuotes => Volatile.Read(ref _rejectedQuotes);

    public async Task<IReadOnlyList<OutcomeScore>> ScoreManyAsync(IReadOnlyList<string> texts, CancellationToken ct)
    {
        var scores = new OutcomeScore[texts.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, texts.Count), new ParallelOptions { MaxDegreeOfParallelism = maxConcurrency, CancellationToken = ct },
            async (i, token) => scores[i] = await ScoreAsync(texts[i], token));
        return scores;
    }

    public async Task<OutcomeScore> ScoreAsync(string text, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(text);
        var response = await chat.GetResponseAsync(
            [new ChatMessage(ChatRole.System, SystemPrompt), new ChatMessage(ChatRole.User, text)],
            new ChatOptions { ModelId = model, Temperature = 0, ResponseFormat = Format }, ct);
        ChatOutcomeAnswer? answer;
        try
        {
            answer = JsonSerializer.Deserialize<ChatOutcomeAnswer>(ModelClients.JsonOf(response.Text), Json);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"The chat model's answer is not the outcome JSON asked for: {ex.Message}", ex);
        }
        return Score(text, answer?.Outcomes ?? throw new InvalidDataException("The chat model's answer has no outcomes list."));
    }

    /// <summary>Keeps the outcomes whose quote is in <paramref name="text"/> and combines them per dimension.</summary>
    private OutcomeScore Score(string text, IReadOnlyList<ChatOutcome> outcomes)
    {
        var evidence = OutcomeDimensions.All.ToDictionary(d => d, _ => new List<OutcomeEvidence>());
        foreach (var o in outcomes)
        {
            if (o.Dimension is not { } named || o.Direction is not { } direction)
            {
                throw new InvalidDataException($"The chat model named an outcome outside the schema: {o.Dimension}/{o.Direction}.");
            }
            var quote = (o.Quote ?? "").Trim().Trim('"', '“', '”');
            var at = quote.Length == 0 ? -1 : text.IndexOf(quote, StringComparison.Ordinal);
            if (at < 0)
            {
                Interlocked.Increment(ref _rejectedQuotes);
                continue;
            }
            var dimension = OutcomeDimensions.All[(int)named];
            var list = evidence[dimension];
            var contribution = direction == ChatDirection.Positive ? 1.0 : -1.0;
            if (list.Any(e => e.Start == at && e.Length == quote.Length && e.Contribution == contribution))
            {
                continue; // the same passage named twice counts once
            }
            list.Add(new OutcomeEvidence(dimension, quote, at, quote.Length, [$"chat:{(contribution > 0 ? "positive" : "negative")}"], contribution,
                OutcomeScorer.Sha256Hex(quote)));
        }
        var dims = new Dictionary<string, DimensionScore>();
        foreach (var (dimension, ev) in evidence)
        {
            ev.Sort((a, b) => a.Start.CompareTo(b.Start));
            dims[dimension] = DimensionScore.FromEvidence(dimension, ev);
        }
        return new OutcomeScore(ModelVersion, dims);
    }
}

public enum ChatDirection { Positive, Negative }

/// <summary>The dimensions as the schema names them (snake case, the names <see cref="OutcomeDimensions"/> stores).</summary>
public enum ChatDimension { Confidence, Belonging, LangLevelProxy, JobReadiness, WellBeing }

/// <summary>One outcome the chat model reports: dimension, direction and the passage of the text that shows it.</summary>
public sealed record ChatOutcome(ChatDimension? Dimension, ChatDirection? Direction, string? Quote);

/// <summary>The JSON schema the chat model answers in.</summary>
public sealed record ChatOutcomeAnswer(IReadOnlyList<ChatOutcome>? Outcomes);
