using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Core.Ai;
using Platform.Core.Events;
using Platform.Core.Events.Matching;
using Platform.Tests.Integration.Civic;

namespace Platform.Tests.Unit.Events;

/// <summary>Conversation starters through a chat model on loopback (the OpenAI protocol), and the fallback when it fails.</summary>
public sealed class ConversationStarterModelTests
{
    private static Attendee Person(string id, string name, string company, string[] seeking, string[] offering, string? bio = null) => new(
        Guid.Empty, id, name, AttendeeKinds.Attendee, company, "engineer", "fintech", bio, [], new Dictionary<string, double> { ["rust"] = 1 },
        offering, seeking, [], true, true, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);

    private static readonly Conference Conf = new(Guid.NewGuid(), "RustConf", new Branding(), new ConferenceFeatures(), new ConferenceLimits(),
        MatchWeights.Default, 1, DateTimeOffset.UnixEpoch);

    private static readonly Attendee Ann = Person("ann", "Ann", "Acme", ["funding"], [], "Quietly building omegaledger before launch");
    private static readonly Attendee Ben = Person("ben", "Ben", "Zeta", [], ["funding"]);
    private static readonly MatchingIndex Index = new([Ann.ToProfile(), Ben.ToProfile()]);

    [Fact]
    public async Task The_configured_model_writes_the_starters_from_the_shared_facts_only()
    {
        var requests = new ConcurrentQueue<string>();
        await using var model = await ChatStub.StartAsync((_, _) => Task.FromResult(ChatStub.Completion(
            "{\"starters\": [\"Ben, what kind of rounds does Zeta fund?\", \"How did you get into rust?\", \"What brings you to RustConf?\"]}")), requests);
        var chat = ModelClients.CreateChat("openai", new Uri(model.BaseAddress, "/v1").ToString(), null, ChatStub.Model, TimeSpan.FromSeconds(5));
        var set = await new ConversationStarters(NullLogger<ConversationStarters>.Instance, chat).ForAsync(Conf, Ann, Ben, Index, CancellationToken.None);

        Assert.Equal("model", set.Source);
        Assert.Equal(ChatStub.Model, set.Model);
        Assert.Equal(["Ben, what kind of rounds does Zeta fund?", "How did you get into rust?", "What brings you to RustConf?"], set.Starters);
        var sent = Assert.Single(requests);
        Assert.Contains("Ben offers funding, which you are looking for.", sent); // the matcher's reasons are the facts
        Assert.DoesNotContain("omegaledger", sent); // a bio goes only as far as the terms the matcher found shared
    }

    [Fact]
    public async Task A_failing_or_rambling_model_falls_back_to_the_template_with_the_reason()
    {
        var template = await new ConversationStarters(NullLogger<ConversationStarters>.Instance).ForAsync(Conf, Ann, Ben, Index, CancellationToken.None);
        Assert.Equal("template", template.Source);
        Assert.Equal("Ask Ben about funding — it's what you came to find.", template.Starters[0]);

        foreach (var answer in new Func<IResult>[] { () => Results.StatusCode(500), () => ChatStub.Completion("Sure! Here are some ideas: …") })
        {
            await using var model = await ChatStub.StartAsync((_, _) => Task.FromResult(answer()));
            var chat = ModelClients.CreateChat("openai", new Uri(model.BaseAddress, "/v1").ToString(), null, ChatStub.Model, TimeSpan.FromSeconds(5));
            var set = await new ConversationStarters(NullLogger<ConversationStarters>.Instance, chat).ForAsync(Conf, Ann, Ben, Index, CancellationToken.None);
            Assert.Equal("template", set.Source);
            Assert.Equal(template.Starters, set.Starters);
            Assert.False(string.IsNullOrEmpty(set.FallbackReason));
        }
    }
}
