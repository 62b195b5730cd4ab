namespace Platform.Core.Civic;

/// <summary>A pointer into an artifact's text; <see cref="Excerpt"/> must equal the text between Start and End.</summary>
public sealed record Evidence(Guid ArtifactId, string SectionRef, int Start, int End, string Excerpt, int? Page = null);

public sealed record Claim(string Kind, string Text, IReadOnlyList<Evidence> Evidence);

public sealed record VoteTally(int? Ayes, int? Nays, int? Abstain);

public sealed record KeyDecision(string Motion, string Kind, string Outcome, VoteTally? Tally, string? AgendaItem, string SectionRef);

public sealed record Topic(string Title, string SectionRef);

/// <summary>Which model and prompt wrote a summary, or why a model-backed summary fell back to the extractive one.</summary>
public sealed record SummaryProvenance(string? Model, string? PromptVersion, string? Prompt, string? FallbackReason);

/// <summary>A summary before the gate: what a summarizer proposes to publish.</summary>
public sealed record SummaryDraft(string ShortSummary, IReadOnlyList<KeyDecision> KeyDecisions, IReadOnlyList<Topic> NotableTopics,
    IReadOnlyList<Claim> Claims, string Summarizer, SummaryProvenance? Provenance = null);

/// <summary>What a summarizer reads: the artifact's text and what the extract stage found in it.</summary>
public sealed record SummaryInput(Guid ArtifactId, string Text, MeetingExtraction Extraction, string Title);

/// <summary>Produces a draft summary; whatever it returns goes through the same quality gate.</summary>
public interface ISummarizer
{
    Task<SummaryDraft> SummarizeAsync(SummaryInput input, CancellationToken ct);
}

/// <summary>The default <see cref="ISummarizer"/>: <see cref="ExtractiveSummarizer"/>, which needs no model.</summary>
public sealed class ExtractiveSummarizerAdapter : ISummarizer
{
    public Task<SummaryDraft> SummarizeAsync(SummaryInput input, CancellationToken ct) =>
        Task.FromResult(ExtractiveSummarizer.Summarize(input.ArtifactId, input.Text, input.Extraction, input.Title));
}
