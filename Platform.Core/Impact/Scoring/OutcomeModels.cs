using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Ai;

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
/// Which outcome model scores new texts: <c>Platform:Impact:OutcomeModel</c> = <c>rubric</c> (default), <c>embedding</c>
/// (the classifier over the local MiniLM embeddings) or <c>chat</c> (<see cref="ChatOutcomeModel"/> through the shared
/// chat model, <c>Platform:Models:Chat</c>, which must then be configured: the texts are sent to that endpoint).
/// </summary>
public static class OutcomeModels
{
    public const string ConfigKey = "Platform:Impact:OutcomeModel";

    public static IOutcomeModel FromConfiguration(IConfiguration? configuration, IServiceProvider? services = null) =>
        (configuration?[ConfigKey] ?? "rubric").ToLowerInvariant() switch
        {
            "rubric" => new RubricOutcomeModel(),
            "embedding" => new OutcomeClassifier(),
            "chat" => services?.GetService<IChatClient>() is { } chat
                      && services.GetKeyedService<ModelEndpointOptions>(ModelClients.ChatSection) is { Model: { Length: > 0 } model }
                ? new ChatOutcomeModel(chat, model)
                : throw new InvalidOperationException($"{ConfigKey} 'chat' needs a chat model: set {ModelClients.ChatSection}:Endpoint and {ModelClients.ChatSection}:Model."),
            var other => throw new InvalidOperationException($"{ConfigKey} '{other}' is not one of rubric, embedding, chat."),
        };
}
