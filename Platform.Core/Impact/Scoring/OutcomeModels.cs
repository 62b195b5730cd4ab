using Microsoft.Extensions.Configuration;

namespace Platform.Core.Impact.Scoring;

/// <summary>An outcome scorer the scoring jobs can run; its <see cref="ModelVersion"/> is stored with every score.</summary>
public interface IOutcomeModel
{
    string ModelVersion { get; }

    Task<IReadOnlyList<OutcomeScore>> ScoreManyAsync(IReadOnlyList<string> texts, CancellationToken ct);
}

/// <summary>The hand-written rubric (<see cref="OutcomeScorer"/>) as an <see cref="IOutcomeModel"/>.</summary>
public sealed class RubricOutcomeModel : IOutcomeModel
{
    public string ModelVersion => OutcomeScorer.ModelVersion;

    public Task<IReadOnlyList<OutcomeScore>> ScoreManyAsync(IReadOnlyList<string> texts, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<OutcomeScore>>(texts.Select(OutcomeScorer.Score).ToList());
}

/// <summary>
/// Which outcome model scores new texts: <c>Platform:Impact:OutcomeModel</c> = <c>rubric</c> (default) or
/// <c>embedding</c> (the classifier over the local MiniLM embeddings).
/// </summary>
public static class OutcomeModels
{
    public const string ConfigKey = "Platform:Impact:OutcomeModel";

    public static IOutcomeModel FromConfiguration(IConfiguration? configuration) =>
        (configuration?[ConfigKey] ?? "rubric").ToLowerInvariant() switch
        {
            "rubric" => new RubricOutcomeModel(),
            "embedding" => new OutcomeClassifier(),
            var other => throw new InvalidOperationException($"{ConfigKey} '{other}' is not one of rubric, embedding."),
        };
}
