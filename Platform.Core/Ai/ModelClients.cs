using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using OpenAI;

namespace Platform.Core.Ai;

/// <summary>
/// Where a model runs. <c>local-minilm</c> (embeddings only) is the model shipped with the application; <c>openai</c>,
/// <c>azure</c> (Azure OpenAI's /openai/v1/ endpoint) and <c>ollama</c> all speak the OpenAI protocol at
/// <see cref="Endpoint"/>. The endpoint is the operator's configuration, not a tenant's URL.
/// </summary>
public sealed class ModelEndpointOptions
{
    public string Provider { get; set; } = LocalMiniLmEmbeddingGenerator.ProviderName;
    public string? Endpoint { get; set; }
    public string? ApiKey { get; set; }
    public string? Model { get; set; }
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary>
/// The one place model clients are built, for every module: the one chat client (CouncilSense summaries, conference
/// conversation starters) and the embedding generator outcome scoring and matching use. Both are Microsoft.Extensions.AI
/// abstractions, so swapping a provider is configuration (<c>Platform:Models:Chat</c>, <c>Platform:Models:Embeddings</c>), not code.
/// </summary>
public static partial class ModelClients
{
    public const string EmbeddingsSection = "Platform:Models:Embeddings";
    public const string ChatSection = "Platform:Models:Chat";

    public static IChatClient CreateChat(string provider, string endpoint, string? apiKey, string model, TimeSpan timeout) =>
        provider.ToLowerInvariant() switch
        {
            // Ollama, Azure OpenAI (/openai/v1/), vLLM and llama.cpp all serve the chat-completions protocol.
            "openai" or "azure" or "ollama" => new OpenAI.Chat.ChatClient(model, Credential(apiKey), ClientOptions(endpoint, timeout)).AsIChatClient(),
            _ => throw new InvalidOperationException($"Model provider '{provider}' is not one of openai, azure, ollama."),
        };

    public static IEmbeddingGenerator<string, Embedding<float>> CreateEmbeddings(ModelEndpointOptions options) =>
        options.Provider.ToLowerInvariant() switch
        {
            LocalMiniLmEmbeddingGenerator.ProviderName => LocalMiniLmEmbeddingGenerator.Shared,
            "openai" or "azure" or "ollama" when !string.IsNullOrEmpty(options.Endpoint) && !string.IsNullOrEmpty(options.Model) =>
                new OpenAI.Embeddings.EmbeddingClient(options.Model, Credential(options.ApiKey), ClientOptions(options.Endpoint, options.Timeout)).AsIEmbeddingGenerator(),
            "openai" or "azure" or "ollama" => throw new InvalidOperationException($"{EmbeddingsSection}: provider '{options.Provider}' needs Endpoint and Model."),
            _ => throw new InvalidOperationException($"{EmbeddingsSection}:Provider '{options.Provider}' is not one of {LocalMiniLmEmbeddingGenerator.ProviderName}, openai, azure, ollama."),
        };

    /// <summary>
    /// The embedding generator <c>Platform:Models:Embeddings</c> names (the local MiniLM when unset), read from the
    /// host's configuration when first needed, and the per-tenant embedding store. Safe to call from every module.
    /// </summary>
    public static IServiceCollection AddModelClients(this IServiceCollection services)
    {
        services.TryAddSingleton(sp => sp.GetService<IConfiguration>()?.GetSection(EmbeddingsSection).Get<ModelEndpointOptions>() ?? new ModelEndpointOptions());
        services.TryAddSingleton(sp => CreateEmbeddings(sp.GetRequiredService<ModelEndpointOptions>()));
        services.TryAddSingleton<StoredEmbeddings>();
        return services;
    }

    /// <summary>
    /// The section that named the civic summarizer's model before every module shared one chat setup. Still read when
    /// <see cref="ChatSection"/> names no endpoint, so an existing deployment keeps its summaries, and logged as
    /// deprecated; its <c>MaxInputChars</c> stays the summarizer's own setting.
    /// </summary>
    public const string DeprecatedCivicChatSection = "Platform:Civic:Generative";

    /// <summary>
    /// The one chat-model setting (<c>Platform:Models:Chat</c>: Provider openai|azure|ollama, Endpoint, Model, ApiKey?,
    /// Timeout?), or the deprecated <see cref="DeprecatedCivicChatSection"/> when only that names an endpoint; null when
    /// no chat model is configured. <c>FromDeprecatedSection</c> says which was read.
    /// </summary>
    public static (ModelEndpointOptions? Options, bool FromDeprecatedSection) ChatSettings(IConfiguration configuration)
    {
        if (Configured(configuration.GetSection(ChatSection)) is { } current)
        {
            return (current, false);
        }
        if (Configured(configuration.GetSection(DeprecatedCivicChatSection)) is { } old)
        {
            // The civic section's default model, for deployments that never named one.
            old.Model = old.Model is { Length: > 0 } ? old.Model : "gpt-4o-mini";
            return (old, true);
        }
        return (null, false);
    }

    /// <summary>The section's options when it names an endpoint; an unnamed provider is <c>openai</c> (the protocol every provider here speaks).</summary>
    private static ModelEndpointOptions? Configured(IConfigurationSection section)
    {
        if (section["Endpoint"] is not { Length: > 0 } || section.Get<ModelEndpointOptions>() is not { } options)
        {
            return null;
        }
        options.Provider = section["Provider"] is { Length: > 0 } provider ? provider : "openai";
        return options;
    }

    /// <summary>
    /// Registers the shared <see cref="IChatClient"/> <see cref="ChatSettings"/> finds, and its <see cref="ModelEndpointOptions"/>
    /// under the key <see cref="ChatSection"/>; nothing is registered when no chat model is configured, so features fall back
    /// to their templates. Safe to call from every module: the first registration wins. Returns whether a chat model is configured.
    /// </summary>
    public static bool AddSharedChatClient(this IServiceCollection services, IConfiguration configuration)
    {
        var (options, deprecated) = ChatSettings(configuration);
        if (options is null)
        {
            return false;
        }
        if (options is not { Endpoint: { Length: > 0 } endpoint, Model: { Length: > 0 } model })
        {
            throw new InvalidOperationException($"{ChatSection}: provider '{options.Provider}' needs Endpoint and Model.");
        }
        services.TryAddKeyedSingleton(ChatSection, options);
        services.TryAddSingleton(sp =>
        {
            if (deprecated)
            {
                var logger = sp.GetService<ILoggerFactory>()?.CreateLogger(typeof(ModelClients).FullName!);
                if (logger is not null)
                {
                    LogDeprecatedChatSection(logger, DeprecatedCivicChatSection, ChatSection);
                }
            }
            return CreateChat(options.Provider, endpoint, options.ApiKey, model, options.Timeout);
        });
        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The chat model is configured under {OldSection}, which is deprecated: move Provider, Endpoint, Model, ApiKey and Timeout to {Section}")]
    private static partial void LogDeprecatedChatSection(ILogger logger, string oldSection, string section);

    /// <summary>The model id an embedding generator reports, recorded with every result computed from its vectors.</summary>
    public static string ModelIdOf(IEmbeddingGenerator<string, Embedding<float>> generator) =>
        generator.GetService<EmbeddingGeneratorMetadata>() is { } m ? $"{m.ProviderName}:{m.DefaultModelId}" : generator.GetType().Name;

    /// <summary>A model's JSON answer without the Markdown code fence some models wrap it in even when asked not to.</summary>
    public static string JsonOf(string content)
    {
        var t = content.Trim();
        if (!t.StartsWith("```", StringComparison.Ordinal))
        {
            return t;
        }
        var first = t.IndexOf('\n', StringComparison.Ordinal);
        var last = t.LastIndexOf("```", StringComparison.Ordinal);
        return first > 0 && last > first ? t[(first + 1)..last] : t;
    }

    private static ApiKeyCredential Credential(string? apiKey) => new(string.IsNullOrEmpty(apiKey) ? "none" : apiKey);

    private static OpenAIClientOptions ClientOptions(string endpoint, TimeSpan timeout) => new()
    {
        Endpoint = new Uri(endpoint),
        // One attempt: a slow or failing model is replaced by the deterministic fallback, not waited for.
        RetryPolicy = new ClientRetryPolicy(0),
        NetworkTimeout = timeout,
    };
}
