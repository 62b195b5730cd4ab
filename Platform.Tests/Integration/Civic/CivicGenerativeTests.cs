using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Core.Ai;
using Platform.Core.Civic;
using Platform.Tests.Integration.Security;

namespace Platform.Tests.Integration.Civic;

/// <summary>A model on loopback that speaks the chat-completions protocol; what it answers is up to the test.</summary>
public static class ChatStub
{
    public const string Model = "stub-model-1";

    public static Task<StubServer> StartAsync(Func<HttpContext, string, Task<IResult>> answer, ConcurrentQueue<string>? requests = null) =>
        StubServer.StartAsync(app => app.MapPost("/v1/chat/completions", async (HttpContext ctx) =>
        {
            var body = await new StreamReader(ctx.Request.Body).ReadToEndAsync();
            requests?.Enqueue(body);
            return await answer(ctx, body);
        }));

    public static IResult Completion(string content) => Results.Text(JsonSerializer.Serialize(new
    {
        id = "chatcmpl-1",
        @object = "chat.completion",
        created = 1_767_225_600,
        model = Model,
        choices = new[] { new { index = 0, message = new { role = "assistant", content }, finish_reason = "stop" } },
        usage = new { prompt_tokens = 10, completion_tokens = 10, total_tokens = 20 },
    }), "application/json");

    /// <summary>A model answer quoting <paramref name="quote"/> as its evidence.</summary>
    public static string Answer(string quote) => JsonSerializer.Serialize(new
    {
        shortSummary = "The council adopted the capital budget.",
        claims = new[] { new { text = "The capital budget was adopted 5-2.", quote } },
    });

    /// <summary>The shared chat setting (<c>Platform:Models:Chat</c>) pointing at <paramref name="server"/>.</summary>
    public static ModelEndpointOptions Options(StubServer server, TimeSpan? timeout = null) => new()
    {
        Provider = "openai",
        Endpoint = new Uri(server.BaseAddress, "v1").ToString(),
        ApiKey = "test-key",
        Model = Model,
        Timeout = timeout ?? TimeSpan.FromSeconds(20),
    };
}

/// <summary>The model-backed summarizer against a stub model on loopback: the gate still rules, and failures fall back.</summary>
public sealed class CivicGenerativeSummarizerTests
{
    private static readonly Guid Artifact = Guid.Parse("0193a000-0000-7000-8000-000000000003");

    private const string Minutes = """
        CITY OF GRANITE BAY
        City Council - Regular Meeting Minutes
        June 2, 2026

        1. CAPITAL BUDGET
        Councilmember Ames moved to adopt the FY 2027 capital improvement budget, seconded by Councilmember Bell. The motion carried 5-2.
        """;

    private static SummaryInput Input()
    {
        var text = DocumentText.Normalize(Minutes);
        return new SummaryInput(Artifact, text, MinutesExtractor.Extract(text), "fallback title");
    }

    private static GenerativeSummarizer Summarizer(ModelEndpointOptions model) =>
        new(ModelClients.CreateChat(model.Provider, model.Endpoint!, model.ApiKey, model.Model!, model.Timeout), model, new GenerativeOptions(),
            NullLogger<GenerativeSummarizer>.Instance);

    private static GateResult Gate(SummaryDraft draft, SummaryInput input) =>
        QualityGate.Evaluate(draft, new Dictionary<Guid, string> { [input.ArtifactId] = input.Text }, new GateThresholds());

    [Fact]
    public async Task A_verbatim_quote_passes_and_the_model_prompt_and_version_travel_with_the_draft()
    {
        var requests = new ConcurrentQueue<string>();
        await using var model = await ChatStub.StartAsync((_, _) => Task.FromResult(ChatStub.Completion(ChatStub.Answer("The motion carried 5-2."))), requests);
        var input = Input();

        var draft = await Summarizer(ChatStub.Options(model)).SummarizeAsync(input, CancellationToken.None);

        Assert.Equal($"generative:{ChatStub.Model}", draft.Summarizer);
        Assert.Equal(new SummaryProvenance(ChatStub.Model, GenerativeSummarizer.PromptVersion, GenerativeSummarizer.SystemPrompt, null), draft.Provenance);
        Assert.Equal(GateOutcomes.Pass, Gate(draft, input).Outcome);
        Assert.Single(draft.KeyDecisions); // decisions stay the extraction's
        var request = JsonDocument.Parse(Assert.Single(requests)).RootElement;
        Assert.Equal(ChatStub.Model, request.GetProperty("model").GetString());
        Assert.Contains("capital improvement budget", request.GetProperty("messages")[1].GetProperty("content").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_quote_that_is_not_in_the_minutes_is_rejected_by_the_gate()
    {
        await using var model = await ChatStub.StartAsync((_, _) => Task.FromResult(ChatStub.Completion(ChatStub.Answer("The motion carried 7-0."))));
        var input = Input();

        var draft = await Summarizer(ChatStub.Options(model)).SummarizeAsync(input, CancellationToken.None);
        var gate = Gate(draft, input);

        Assert.Equal(GateOutcomes.Reject, gate.Outcome);
        Assert.Contains(gate.Problems, p => p.Contains("fabricated", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(503)]
    [InlineData(500)]
    public async Task A_server_error_falls_back_to_the_extractive_summary(int status)
    {
        var calls = 0;
        await using var model = await ChatStub.StartAsync((_, _) =>
        {
            Interlocked.Increment(ref calls);
            return Task.FromResult(Results.StatusCode(status));
        });
        var input = Input();

        var draft = await Summarizer(ChatStub.Options(model)).SummarizeAsync(input, CancellationToken.None);

        Assert.Equal(ExtractiveSummarizer.Name, draft.Summarizer);
        Assert.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture), draft.Provenance!.FallbackReason, StringComparison.Ordinal);
        Assert.Null(draft.Provenance.Model);
        Assert.Equal(GateOutcomes.Pass, Gate(draft, input).Outcome);
        Assert.Equal(1, calls); // no retries: a failing model is replaced, not waited for
    }

    [Fact]
    public async Task A_model_slower_than_the_timeout_falls_back_to_the_extractive_summary()
    {
        await using var model = await ChatStub.StartAsync(async (ctx, _) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(30), ctx.RequestAborted);
            return ChatStub.Completion(ChatStub.Answer("The motion carried 5-2."));
        });
        var input = Input();
        var clock = Stopwatch.StartNew();

        var draft = await Summarizer(ChatStub.Options(model, TimeSpan.FromMilliseconds(500))).SummarizeAsync(input, CancellationToken.None);

        Assert.Equal(ExtractiveSummarizer.Name, draft.Summarizer);
        Assert.Contains("timed out", draft.Provenance!.FallbackReason, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"fell back after {clock.Elapsed}");
    }

    [Fact]
    public async Task An_answer_that_is_not_the_json_asked_for_falls_back()
    {
        await using var model = await ChatStub.StartAsync((_, _) => Task.FromResult(ChatStub.Completion("Sure! Here is a summary of the meeting.")));
        var draft = await Summarizer(ChatStub.Options(model)).SummarizeAsync(Input(), CancellationToken.None);
        Assert.Equal(ExtractiveSummarizer.Name, draft.Summarizer);
        Assert.NotNull(draft.Provenance!.FallbackReason);
    }
}

/// <summary>The pipeline with a model configured: a stub model on loopback.</summary>
public sealed class GenerativeCivicFixture : CivicFixture
{
    public StubServer Model { get; private set; } = null!;

    protected override async Task ConfigureAsync(Dictionary<string, string?> settings)
    {
        // The stub quotes the first vote line of whatever minutes it is sent, verbatim.
        Model = await ChatStub.StartAsync((_, body) =>
        {
            var minutes = JsonDocument.Parse(body).RootElement.GetProperty("messages")[1].GetProperty("content").GetString()!;
            var quote = minutes.Split('\n').First(l => l.Contains("carried", StringComparison.OrdinalIgnoreCase)).Trim();
            return Task.FromResult(ChatStub.Completion(ChatStub.Answer(quote)));
        });
        var options = ChatStub.Options(Model);
        settings["Platform:Models:Chat:Provider"] = options.Provider;
        settings["Platform:Models:Chat:Endpoint"] = options.Endpoint;
        settings["Platform:Models:Chat:ApiKey"] = options.ApiKey;
        settings["Platform:Models:Chat:Model"] = options.Model;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Model.DisposeAsync();
    }
}

public sealed class CivicGenerativePipelineTests(GenerativeCivicFixture f) : IClassFixture<GenerativeCivicFixture>
{
    [Fact]
    public async Task A_model_written_summary_is_published_with_its_model_prompt_and_version_recorded()
    {
        var (_, key) = await f.CreateTenantAsync("generative");
        var folder = CivicFixture.CopyToTemp(Platform.Tests.Unit.Civic.CivicSeeds.Riverton, take: 1);
        var city = await f.CreateCityAsync(key, "granite", "file", folder);

        await f.ScanAsync(city);
        await f.SettledAsync(city);

        await using var cmd = f.Db.CreateCommand("""
            SELECT v.summarizer, v.model, v.prompt_version, v.prompt, v.fallback_reason, v.confidence_label
            FROM civic.summary_versions v JOIN civic.meetings m ON m.id = v.meeting_id WHERE m.city_id = $1 AND v.is_current
            """);
        cmd.Parameters.Add(new() { Value = city });
        await using var r = await cmd.ExecuteReaderAsync();
        Assert.True(await r.ReadAsync(), "a summary version was published");
        Assert.Equal($"generative:{ChatStub.Model}", r.GetString(0));
        Assert.Equal(ChatStub.Model, r.GetString(1));
        Assert.Equal(GenerativeSummarizer.PromptVersion, r.GetString(2));
        Assert.Equal(GenerativeSummarizer.SystemPrompt, r.GetString(3));
        Assert.True(r.IsDBNull(4));
        Assert.Equal(GateOutcomes.Pass, r.GetString(5));
    }
}

/// <summary>
/// One chat-model setting for every module: the civic summarizer uses the shared <c>IChatClient</c> that
/// <c>Platform:Models:Chat</c> names, and a deployment still configured under the old <c>Platform:Civic:Generative</c>
/// keys keeps its model-written summaries, with a deprecation warning.
/// </summary>
public sealed class SharedChatModelSettingTests
{
    /// <summary>The services Api and Worker build for civic (and, in Api, conversation starters) from <paramref name="settings"/>.</summary>
    private static (IHost Host, ISummarizer Summarizer, IChatClient? Chat, CapturingLoggerProvider Logs) CivicWith(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        var logs = new CapturingLoggerProvider();
        builder.Logging.AddProvider(logs);
        builder.AddCivic();
        // Api registers the shared client for conversation starters too; the first registration wins, so both share one.
        ModelClients.AddSharedChatClient(builder.Services, builder.Configuration);
        var host = builder.Build();
        return (host, host.Services.GetRequiredService<ISummarizer>(), host.Services.GetService<IChatClient>(), logs);
    }

    private static SummaryInput Input()
    {
        var text = DocumentText.Normalize("City Council Minutes\n\n1. BUDGET\nThe motion carried 5-2.\n");
        return new SummaryInput(Guid.CreateVersion7(), text, MinutesExtractor.Extract(text), "title");
    }

    [Fact]
    public async Task The_civic_summarizer_writes_with_the_chat_model_that_Platform_Models_Chat_names()
    {
        var requests = new ConcurrentQueue<string>();
        await using var model = await ChatStub.StartAsync((_, _) => Task.FromResult(ChatStub.Completion(ChatStub.Answer("The motion carried 5-2."))), requests);
        var (host, summarizer, chat, logs) = CivicWith(new()
        {
            ["Platform:Models:Chat:Provider"] = "ollama",
            ["Platform:Models:Chat:Endpoint"] = new Uri(model.BaseAddress, "v1").ToString(),
            ["Platform:Models:Chat:Model"] = ChatStub.Model,
        });
        using var running = host;

        var draft = await summarizer.SummarizeAsync(Input(), CancellationToken.None);

        Assert.Equal($"generative:{ChatStub.Model}", draft.Summarizer);
        Assert.Single(requests);
        Assert.NotNull(chat);
        Assert.DoesNotContain(logs.Lines, l => l.Contains("deprecated", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_old_civic_keys_still_configure_the_model_and_are_logged_as_deprecated()
    {
        await using var model = await ChatStub.StartAsync((_, _) => Task.FromResult(ChatStub.Completion(ChatStub.Answer("The motion carried 5-2."))));
        var (host, summarizer, _, logs) = CivicWith(new()
        {
            ["Platform:Civic:Generative:Endpoint"] = new Uri(model.BaseAddress, "v1").ToString(),
            ["Platform:Civic:Generative:ApiKey"] = "test-key",
            ["Platform:Civic:Generative:Model"] = ChatStub.Model,
        });
        using var running = host;

        var draft = await summarizer.SummarizeAsync(Input(), CancellationToken.None);

        Assert.Equal($"generative:{ChatStub.Model}", draft.Summarizer);
        Assert.Contains(logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal)
            && l.Contains("Platform:Civic:Generative", StringComparison.Ordinal) && l.Contains("deprecated", StringComparison.Ordinal)
            && l.Contains("Platform:Models:Chat", StringComparison.Ordinal));
    }

    [Fact]
    public void The_shared_setting_wins_over_the_old_keys_and_no_setting_means_no_chat_model()
    {
        var both = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Platform:Civic:Generative:Endpoint"] = "http://127.0.0.1:1/v1",
            ["Platform:Civic:Generative:Model"] = "old-model",
            ["Platform:Models:Chat:Endpoint"] = "http://127.0.0.1:2/v1",
            ["Platform:Models:Chat:Model"] = "new-model",
        }).Build();
        var (options, deprecated) = ModelClients.ChatSettings(both);
        Assert.Equal(("http://127.0.0.1:2/v1", "new-model", "openai", false), (options!.Endpoint, options.Model, options.Provider, deprecated));

        var old = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Platform:Civic:Generative:Endpoint"] = "http://127.0.0.1:1/v1",
            ["Platform:Civic:Generative:MaxInputChars"] = "1000",
        }).Build();
        (options, deprecated) = ModelClients.ChatSettings(old);
        Assert.Equal(("http://127.0.0.1:1/v1", "gpt-4o-mini", "openai", true), (options!.Endpoint, options.Model, options.Provider, deprecated));

        Assert.Null(ModelClients.ChatSettings(new ConfigurationBuilder().Build()).Options);
    }

    [Fact]
    public async Task Without_a_chat_model_the_summaries_stay_extractive()
    {
        var (host, summarizer, chat, _) = CivicWith([]);
        using var running = host;
        Assert.Null(chat);
        Assert.Equal(ExtractiveSummarizer.Name, (await summarizer.SummarizeAsync(Input(), CancellationToken.None)).Summarizer);
    }
}
