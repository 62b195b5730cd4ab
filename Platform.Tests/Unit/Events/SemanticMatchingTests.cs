using Platform.Core.Ai;
using Platform.Core.Events.Matching;

namespace Platform.Tests.Unit.Events;

/// <summary>The semantic feature: profile texts embedded by the local MiniLM model, compared by cosine.</summary>
public class SemanticMatchingTests
{
    private static readonly HashSet<(string, string)> NoDeclines = [];

    private static AttendeeProfile P(string id, string[] interests, string[] offering, string[] seeking, string bio = "") =>
        new(id, "Name " + id, "company " + id, interests.ToDictionary(t => t, _ => 1.0), offering, seeking, bio, true);

    internal static ProfileEmbeddings Embed(IReadOnlyList<AttendeeProfile> profiles)
    {
        var texts = profiles.SelectMany(p => p.AllTags()).Distinct().ToList();
        var vectors = LocalMiniLmEmbeddingGenerator.Shared.Encode(texts);
        var map = texts.Zip(vectors).ToDictionary(t => t.First, t => t.Second, StringComparer.Ordinal);
        return ProfileEmbeddings.From(new EmbeddedTexts(LocalMiniLmEmbeddingGenerator.ModelId, map));
    }

    /// <summary>
    /// u and "twin" say the same things in different words; "decoy" shares one tag string among unrelated ones;
    /// "other" shares nothing.
    /// </summary>
    private static List<AttendeeProfile> Crowd() =>
    [
        P("u", ["machine learning", "kubernetes", "climate tech"], ["mentoring"], ["seed funding"]),
        P("twin", ["ml models", "k8s container orchestration", "carbon reduction startups"], ["early-stage investment"], ["coaching"]),
        P("decoy", ["climate tech", "knitting", "baroque music", "sailing", "pottery"], [], []),
        P("other", ["gardening", "jazz guitar"], ["bread baking"], ["wine tasting"]),
    ];

    private static List<AttendeeProfile> WithoutDecoy() => [.. Crowd().Where(p => p.Id != "decoy")];

    [Fact]
    public void Paraphrased_profiles_meet_through_embeddings_and_not_through_tag_strings()
    {
        var profiles = WithoutDecoy();
        var strings = new MatchingIndex(profiles);
        Assert.DoesNotContain("twin", ReciprocalMatcher.Recommend(strings, "u", MatchWeights.Default, NoDeclines).Select(r => r.AttendeeId));

        var x = new MatchingIndex(profiles, Embed(profiles));
        Assert.Equal(LocalMiniLmEmbeddingGenerator.ModelId, x.EmbeddingModel);
        var recs = ReciprocalMatcher.Recommend(x, "u", MatchWeights.Default, NoDeclines);
        Assert.Equal("twin", recs[0].AttendeeId);
        Assert.True(recs[0].UserToMatch.SemanticSimilarity > 0.15, $"semantic u→twin {recs[0].UserToMatch.SemanticSimilarity}");
        Assert.Contains(recs[0].Reasons, r => r.StartsWith("Related in meaning: your ", StringComparison.Ordinal) && r.Contains(LocalMiniLmEmbeddingGenerator.ModelId, StringComparison.Ordinal));
        // Unrelated hobbies get less semantic credit than the paraphrased twin (a little remains above the floor).
        Assert.True(ReciprocalMatcher.Semantic(x, x.PositionOf("u"), x.PositionOf("other")) < recs[0].UserToMatch.SemanticSimilarity);
        // Seeking is compared with what the other side is about, so the feature is directional.
        Assert.NotEqual(ReciprocalMatcher.Semantic(x, 0, 1), ReciprocalMatcher.Semantic(x, 1, 0));
    }

    [Fact]
    public void Feedback_learns_the_semantic_weight_through_the_existing_update()
    {
        var profiles = Crowd();
        var x = new MatchingIndex(profiles, Embed(profiles));
        int u = x.PositionOf("u"), twin = x.PositionOf("twin"), decoy = x.PositionOf("decoy");
        // Start from weights where the shared tag string wins.
        var w = new MatchWeights(0.6, 0.2, 0.15, 0.05);
        Assert.Equal("decoy", ReciprocalMatcher.Recommend(x, "u", w, NoDeclines)[0].AttendeeId);
        for (var i = 0; i < 5; i++)
        {
            w = ReciprocalMatcher.UpdateWeights(w, ReciprocalMatcher.Features(x, u, decoy), MatchOutcome.Declined);
            w = ReciprocalMatcher.UpdateWeights(w, ReciprocalMatcher.Features(x, u, twin), MatchOutcome.Met);
        }
        Assert.True(w.Semantic > 0.05 && w.Interests < 0.6, $"weights after feedback {w}");
        Assert.Equal(1.0, w.Interests + w.Complementarity + w.Bio + w.Semantic, 12);
        // The twin gains on the decoy: its pair score relative to the decoy's is higher under the learned weights.
        var start = new MatchWeights(0.6, 0.2, 0.15, 0.05);
        Assert.True(ReciprocalMatcher.PairScore(x, u, twin, w) / ReciprocalMatcher.PairScore(x, u, decoy, w)
            > ReciprocalMatcher.PairScore(x, u, twin, start) / ReciprocalMatcher.PairScore(x, u, decoy, start), $"weights after feedback {w}");
    }
}
