using System.ClientModel;
using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Ai;
using Platform.Core.Impact.Scoring;
using Platform.Tests.Integration.Civic;

namespace Platform.Tests.Integration.Impact;

/// <summary>
/// Outcome scoring by a chat model, against a model on loopback that speaks the chat-completions protocol: only quotes
/// found verbatim in the text become evidence, and a model that fails or answers out of schema fails the call.
/// </summary>
public sealed class ChatOutcomeModelTests
{
    private const string Note = "I was nervous but I answered every question. Still no reply from the warehouse job. We meet Tuesday at 10.";

    /// <summary>The answer a model gives: (dimension, direction, quote) per outcome.</summary>
    public static string Answer(params (string Dimension, string Direction, string Quote)[] outcomes) => JsonSerializer.Serialize(new
    {
        outcomes = outcomes.Select(o => new { dimension = o.Dimension, direction = o.Direction, quote = o.Quote }),
    });

    private static ChatOutcomeModel Model(StubServer server)
    {
        var options = ChatStub.Options(server);
        return new ChatOutcomeModel(ModelClients.CreateChat(options.Provider, options.Endpoint!, options.ApiKey, options.Model!, options.Timeout), options.Model!);
    }

    [Fact]
    public async Task Verbatim_quotes_become_evidence_with_offsets_and_an_invented_quote_is_dropped()
    {
        var requests = new ConcurrentQueue<string>();
        await using var server = await ChatStub.StartAsync((_, _) => Task.FromResult(ChatStub.Completion(Answer(
            ("confidence", "positive", "I was nervous but I answered every question."),
            ("job_readiness", "negative", "Still no reply from the warehouse job."),
            ("well_being", "negative", "I could not sleep before the interview.")))), requests);
        var model = Model(server);

        var score = (await model.ScoreManyAsync([Note], default))[0];

        Assert.Equal($"{ChatOutcomeModel.PromptVersion}+{ChatStub.Model}", score.ModelVersion);
        Assert.Equal(["positive", "absent", "absent", "negative", "absent"],
            OutcomeDimensions.All.Select(d => OutcomeEvaluation.Label(score.Dimensions[d])));
        var confidence = Assert.Single(score.Dimensions[OutcomeDimensions.Confidence].Evidence);
        Assert.Equal((0, "I was nervous but I answered every question."), (confidence.Start, Note.Substring(confidence.Start, confidence.Length)));
        Assert.Equal(OutcomeScorer.Sha256Hex(confidence.Sentence), confidence.Sha256);
        Assert.Equal(["chat:positive"], confidence.Cues);
        var job = Assert.Single(score.Dimensions[OutcomeDimensions.JobReadiness].Evidence);
        Assert.Equal(Note.IndexOf("Still no reply", StringComparison.Ordinal), job.Start);
        // The well-being quote is not in the note: it is dropped, counted, and the dimension abstains.
        Assert.Null(score.Dimensions[OutcomeDimensions.WellBeing].Score);
        Assert.Equal(1, model.RejectedQuotes);

        // Asked with the definitions, the note alone as the user's message, temperature 0 and the answer's JSON schema.
        var request = JsonDocument.Parse(Assert.Single(requests)).RootElement;
        Assert.Equal(ChatStub.Model, request.GetProperty("model").GetString());
        Assert.Equal(0, request.GetProperty("temperature").GetDouble());
        Assert.Equal(ChatOutcomeModel.SystemPrompt, request.GetProperty("messages")[0].GetProperty("content").GetString());
        Assert.Equal(Note, request.GetProperty("messages")[1].GetProperty("content").GetString());
        var format = request.GetProperty("response_format");
        Assert.Equal("json_schema", format.GetProperty("type").GetString());
        var schema = format.GetProperty("json_schema").GetProperty("schema").GetRawText();
        Assert.Contains("lang_level_proxy", schema, StringComparison.Ordinal);
        Assert.Contains("negative", schema, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Quotes_of_both_signs_make_a_dimension_mixed_and_a_repeated_quote_counts_once()
    {
        const string text = "My Norwegian is much better now. On the phone I still understand almost nothing.";
        await using var server = await ChatStub.StartAsync((_, _) => Task.FromResult(ChatStub.Completion("```json\n" + Answer(
            ("lang_level_proxy", "positive", "My Norwegian is much better now."),
            ("lang_level_proxy", "positive", " My Norwegian is much better now. "),
            ("lang_level_proxy", "negative", "On the phone I still understand almost nothing.")) + "\n```")));

        var score = (await Model(server).ScoreManyAsync([text], default))[0].Dimensions[OutcomeDimensions.LangLevelProxy];

        Assert.Equal(0.5, score.Score);
        Assert.Equal("mixed", OutcomeEvaluation.Label(score));
        Assert.Equal([1.0, -1.0], score.Evidence.Select(e => e.Contribution));
    }

    [Fact]
    public async Task Many_texts_are_scored_each_with_its_own_answer_in_order()
    {
        await using var server = await ChatStub.StartAsync((_, body) =>
        {
            var note = JsonDocument.Parse(body).RootElement.GetProperty("messages")[1].GetProperty("content").GetString()!;
            return Task.FromResult(ChatStub.Completion(note.StartsWith("Lonely", StringComparison.Ordinal)
                ? Answer(("belonging", "negative", note))
                : Answer(("belonging", "positive", note))));
        });
        string[] texts = [.. Enumerable.Range(0, 12).Select(i => i % 3 == 0 ? $"Lonely again, week {i}." : $"The group feels like family, week {i}.")];

        var scores = await Model(server).ScoreManyAsync(texts, default);

        Assert.Equal(texts.Select(t => t.StartsWith("Lonely", StringComparison.Ordinal) ? "negative" : "positive"),
            scores.Select(s => OutcomeEvaluation.Label(s.Dimensions[OutcomeDimensions.Belonging])));
        Assert.Equal(texts, scores.Select(s => s.Dimensions[OutcomeDimensions.Belonging].Evidence.Single().Sentence));
    }

    [Fact]
    public async Task An_answer_outside_the_schema_or_a_failing_model_throws_so_the_job_retries()
    {
        await using var prose = await ChatStub.StartAsync((_, _) => Task.FromResult(ChatStub.Completion("The participant seems more confident.")));
        await Assert.ThrowsAsync<InvalidDataException>(() => Model(prose).ScoreManyAsync([Note], default));

        await using var unknown = await ChatStub.StartAsync((_, _) => Task.FromResult(ChatStub.Completion(Answer(("happiness", "positive", "I was nervous")))));
        await Assert.ThrowsAsync<InvalidDataException>(() => Model(unknown).ScoreManyAsync([Note], default));

        await using var down = await ChatStub.StartAsync((_, _) => Task.FromResult(Results.StatusCode(StatusCodes.Status503ServiceUnavailable)));
        await Assert.ThrowsAsync<ClientResultException>(() => Model(down).ScoreManyAsync([Note], default));
    }

    [Fact]
    public async Task Configuration_chooses_the_chat_model_only_when_a_chat_model_is_configured()
    {
        var without = Configuration(new() { [OutcomeModels.ConfigKey] = "chat" });
        var error = Assert.Throws<InvalidOperationException>(() => OutcomeModels.FromConfiguration(without, Services(without)));
        Assert.Contains($"{ModelClients.ChatSection}:Endpoint", error.Message, StringComparison.Ordinal);

        await using var server = await ChatStub.StartAsync((_, _) => Task.FromResult(ChatStub.Completion(Answer())));
        var with = Configuration(new()
        {
            [OutcomeModels.ConfigKey] = "chat",
            [$"{ModelClients.ChatSection}:Endpoint"] = new Uri(server.BaseAddress, "v1").ToString(),
            [$"{ModelClients.ChatSection}:Model"] = ChatStub.Model,
        });
        var model = OutcomeModels.FromConfiguration(with, Services(with));
        Assert.Equal($"{ChatOutcomeModel.PromptVersion}+{ChatStub.Model}", model.ModelVersion);
        // A note with no outcome: every dimension abstains.
        Assert.All((await model.ScoreManyAsync(["We meet Tuesday at 10."], default))[0].Dimensions.Values, d => Assert.Null(d.Score));
    }

    private static IConfiguration Configuration(Dictionary<string, string?> values) => new ConfigurationBuilder().AddInMemoryCollection(values).Build();

    private static ServiceProvider Services(IConfiguration configuration)
    {
        var services = new ServiceCollection();
        ModelClients.AddSharedChatClient(services, configuration);
        return services.BuildServiceProvider();
    }
}
