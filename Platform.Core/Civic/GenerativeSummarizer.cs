using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Platform.Core.Ai;

namespace Platform.Core.Civic;

/// <summary>
/// Optional model-backed summarizer behind the shared <see cref="IChatClient"/> (<c>Platform:Models:Chat</c>: an
/// OpenAI-compatible endpoint, Azure OpenAI's v1 endpoint or a local Ollama, chosen by configuration). The model writes the short summary and claims that each
/// quote the minutes verbatim; quotes are located in the artifact text for offsets. A quote that is not found stays
/// as the model gave it, and the gate then rejects the summary as fabricated. Decisions and topics come from the
/// deterministic extraction, which the model cannot change. A timeout, a 5xx, a refused connection or an answer that
/// is not the JSON asked for falls back to the extractive summary, with the reason recorded on the version.
/// </summary>
public sealed partial class GenerativeSummarizer(IChatClient chat, ModelEndpointOptions model, GenerativeOptions options, ILogger<GenerativeSummarizer> logger)
    : ISummarizer
{
    public const string PromptVersion = "civic-summary-v1";

    public const string SystemPrompt =
        "You summarise city council minutes for residents. Answer only JSON: {\"shortSummary\": string of at most 3 sentences, " +
        "\"claims\": [{\"text\": string, \"quote\": string}]}. Every quote must be copied character for character from the minutes; " +
        "do not invent votes, names or numbers.";

    public async Task<SummaryDraft> SummarizeAsync(SummaryInput input, CancellationToken ct)
    {
        var baseline = ExtractiveSummarizer.Summarize(input.ArtifactId, input.Text, input.Extraction, input.Title);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(model.Timeout);
        var minutes = input.Text.Length > options.MaxInputChars ? input.Text[..options.MaxInputChars] : input.Text;
        try
        {
            var response = await chat.GetResponseAsync(
                [new ChatMessage(ChatRole.System, SystemPrompt), new ChatMessage(ChatRole.User, minutes)],
                new ChatOptions { ModelId = model.Model, Temperature = 0, ResponseFormat = ChatResponseFormat.Json },
                timeout.Token);
            var (summary, claims) = Parse(response.Text, input);
            var answeredBy = response.ModelId ?? model.Model!;
            return new SummaryDraft(summary, baseline.KeyDecisions, baseline.NotableTopics, claims, $"generative:{answeredBy}",
                new SummaryProvenance(answeredBy, PromptVersion, SystemPrompt, null));
        }
        catch (Exception ex) when (!ct.IsCancellationRequested && ex is not OutOfMemoryException)
        {
            var reason = ex is OperationCanceledException ? $"timed out after {model.Timeout.TotalSeconds:0.#} s" : ex.Message;
            LogFallback(logger, model.Provider, model.Model, reason);
            return baseline with { Provenance = new SummaryProvenance(null, null, null, $"{model.Provider} {model.Model}: {reason}") };
        }
    }

    private static (string Summary, List<Claim> Claims) Parse(string content, SummaryInput input)
    {
        using var answer = JsonDocument.Parse(ModelClients.JsonOf(content));
        var claims = new List<Claim>();
        foreach (var c in answer.RootElement.GetProperty("claims").EnumerateArray())
        {
            var text = c.GetProperty("text").GetString() ?? "";
            var quote = c.TryGetProperty("quote", out var q) ? q.GetString() ?? "" : "";
            var at = quote.Length == 0 ? -1 : input.Text.IndexOf(quote, StringComparison.Ordinal);
            var evidence = quote.Length == 0 ? [] : new List<Evidence>
            {
                at >= 0 ? new(input.ArtifactId, "quote", at, at + quote.Length, quote) : new(input.ArtifactId, "quote", 0, quote.Length, quote),
            };
            claims.Add(new Claim("generated", text, evidence));
        }
        var summary = answer.RootElement.TryGetProperty("shortSummary", out var s) ? s.GetString() ?? "" : "";
        return (summary, claims);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Generative summary ({Provider} {Model}) failed, using the extractive summary: {Reason}")]
    private static partial void LogFallback(ILogger logger, string provider, string? model, string reason);
}
