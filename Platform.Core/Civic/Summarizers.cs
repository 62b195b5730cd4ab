using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.Core.Civic;

public sealed record SummaryInput(Guid ArtifactId, string Text, MeetingExtraction Extraction, string Title);

/// <summary>Produces a draft summary; whatever it returns goes through the same quality gate.</summary>
public interface ISummarizer
{
    Task<SummaryDraft> SummarizeAsync(SummaryInput input, CancellationToken ct);
}

public sealed class ExtractiveSummarizerAdapter : ISummarizer
{
    public Task<SummaryDraft> SummarizeAsync(SummaryInput input, CancellationToken ct) =>
        Task.FromResult(ExtractiveSummarizer.Summarize(input.ArtifactId, input.Text, input.Extraction, input.Title));
}

/// <summary>
/// Optional generative summarizer (an OpenAI-compatible chat completions endpoint, off by default). The model is asked
/// for a short summary and claims that each quote the minutes verbatim; the quotes are located in the artifact text to
/// get offsets. A quote that is not found stays as the model gave it — and the gate then rejects it as fabricated.
/// Decisions and topics come from the deterministic extraction, which the model cannot change.
/// </summary>
public sealed class GenerativeSummarizer(HttpClient http, GenerativeOptions options) : ISummarizer
{
    public async Task<SummaryDraft> SummarizeAsync(SummaryInput input, CancellationToken ct)
    {
        var baseline = ExtractiveSummarizer.Summarize(input.ArtifactId, input.Text, input.Extraction, input.Title);
        var request = new
        {
            model = options.Model,
            temperature = 0,
            response_format = new { type = "json_object" },
            messages = new object[]
            {
                new { role = "system", content = "Summarise city council minutes. Answer JSON: {\"shortSummary\": at most 3 sentences, \"claims\": [{\"text\", \"quote\"}]} where every quote is copied verbatim from the minutes." },
                new { role = "user", content = input.Text },
            },
        };
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(new Uri(options.Endpoint!.TrimEnd('/') + "/"), "chat/completions"))
        {
            Content = JsonContent.Create(request),
        };
        if (!string.IsNullOrEmpty(options.ApiKey))
        {
            message.Headers.Authorization = new("Bearer", options.ApiKey);
        }
        using var response = await http.SendAsync(message, ct);
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        var content = body.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString() ?? "{}";
        using var answer = JsonDocument.Parse(content);
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
        return new SummaryDraft(summary, baseline.KeyDecisions, baseline.NotableTopics, claims, $"generative:{options.Model}");
    }
}
