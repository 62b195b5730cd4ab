using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
/// The one place model clients are built, for every module: the chat client CouncilSense summarises with and the
/// embedding generator outcome scoring and matching use. Both are Microsoft.Extensions.AI abstractions, so swapping a
/// provider is configuration (<c>Platform:Models:Embeddings</c>), not code.
/// </summary>
public static class ModelClients
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
    /// The shared <see cref="IChatClient"/> <c>Platform:Models:Chat</c> names (Provider openai|azure|ollama, Endpoint,
    /// Model, ApiKey?, Timeout?); nothing is registered when it names no endpoint, so features fall back to their templates.
    /// </summary>
    public static IServiceCollection AddSharedChatClient(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(ChatSection).Get<ModelEndpointOptions>();
        if (options is { Endpoint: { Length: > 0 } endpoint, Model: { Length: > 0 } model })
        {
            services.AddSingleton(CreateChat(options.Provider, endpoint, options.ApiKey, model, options.Timeout));
        }
        return services;
    }

    /// <summary>The model id an embedding generator reports, recorded with every result computed from its vectors.</summary>
    public static string ModelIdOf(IEmbeddingGenerator<string, Embedding<float>> generator) =>
        generator.GetService<EmbeddingGeneratorMetadata>() is { } m ? $"{m.ProviderName}:{m.DefaultModelId}" : generator.GetType().Name;

    private static ApiKeyCredential Credential(string? apiKey) => new(string.IsNullOrEmpty(apiKey) ? "none" : apiKey);

    private static OpenAIClientOptions ClientOptions(string endpoint, TimeSpan timeout) => new()
    {
        Endpoint = new Uri(endpoint),
        // One attempt: a slow or failing model is replaced by the deterministic fallback, not waited for.
        RetryPolicy = new ClientRetryPolicy(0),
        NetworkTimeout = timeout,
    };
}
