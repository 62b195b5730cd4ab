using Platform.Core.Ai;
using Platform.Core.Community;
using Platform.Core.Community.Algorithms;

namespace Platform.Tests.Unit.Community;

public class CollaboratorRankingTests
{
    private static readonly HashSet<(string, string)> Open = [];

    private static MemberExpertise M(string id, params string[] skills) => new(id, "Name " + id, "t-" + id, skills, [], []);

    private static CollaboratorInputs Inputs(IReadOnlyList<MemberExpertise> members, IEnumerable<(string, string, double)> ties, bool embed = true)
    {
        EmbeddedTexts? texts = null;
        if (embed)
        {
            var list = members.Select(m => m.ExpertiseText()).OfType<string>().Distinct().ToList();
            var vectors = LocalMiniLmEmbeddingGenerator.Shared.Encode(list);
            texts = new EmbeddedTexts("local-minilm:test", list.Zip(vectors).ToDictionary(t => t.First, t => t.Second, StringComparer.Ordinal));
        }
        var tieList = ties.ToList();
        var activity = tieList.GroupBy(t => t.Item1).ToDictionary(g => g.Key, g => g.Sum(t => t.Item3), StringComparer.Ordinal);
        return new CollaboratorInputs(members, texts, tieList, activity);
    }

    [Fact]
    public void Related_expertise_in_other_words_and_shared_contacts_rank_first_and_direct_contacts_are_left_out()
    {
        var members = new List<MemberExpertise>
        {
            M("ana", "machine learning", "python"), M("ben", "neural networks", "data science"), M("dan", "gardening", "pottery"),
            M("eve", "machine learning", "python"), M("zoe", "facilitation"),
        };
        var x = Inputs(members, [("ana", "zoe", 2), ("ben", "zoe", 2), ("ana", "eve", 3), ("dan", "zoe", 1)]);
        var recs = CollaboratorRanking.Recommend(x, "ana", CollaboratorWeights.Default, Open);
        Assert.Equal("ben", recs[0].UserId);
        Assert.DoesNotContain(recs, r => r.UserId is "eve" or "zoe" or "ana"); // direct contacts and self
        Assert.True(recs[0].MemberToCandidate.ExpertiseSimilarity > 0, $"{recs[0].MemberToCandidate}");
        Assert.Equal(0, recs[0].MemberToCandidate.SkillOverlap);
        // Adamic–Adar over zoe (degree 3): 1 / ln 4.
        Assert.Equal(1 - Math.Exp(-1 / Math.Log(4)), recs[0].MemberToCandidate.SharedContacts, 12);
        Assert.Contains(recs[0].Reasons, r => r.Contains("shared contact", StringComparison.Ordinal) && r.Contains("Name zoe", StringComparison.Ordinal));
        // Without embeddings ben shares nothing with ana but a contact: dan, with the same contact, ties with him.
        var strings = Inputs(members, [("ana", "zoe", 2), ("ben", "zoe", 2), ("ana", "eve", 3), ("dan", "zoe", 1)], embed: false);
        var plain = CollaboratorRanking.Recommend(strings, "ana", CollaboratorWeights.Default, Open);
        Assert.Equal(0, plain.Single(r => r.UserId == "ben").MemberToCandidate.ExpertiseSimilarity);
    }

    [Fact]
    public void Pair_score_is_reciprocal_and_closed_pairs_stay_closed_both_ways()
    {
        var members = new List<MemberExpertise> { M("a", "rust"), M("b", "rust"), M("c", "rust") };
        // b is very active, c barely: s(a→b) > s(a→c) through participation, and the harmonic mean keeps it symmetric.
        var x = Inputs(members, [("b", "x1", 20), ("c", "x2", 1), ("a", "x3", 5)], embed: false);
        int a = 0, b = 1;
        Assert.Equal(CollaboratorRanking.PairScore(x, a, b, CollaboratorWeights.Default), CollaboratorRanking.PairScore(x, b, a, CollaboratorWeights.Default), 12);
        Assert.NotEqual(CollaboratorRanking.Features(x, a, b).Participation, CollaboratorRanking.Features(x, b, a).Participation);
        Assert.Equal(["b", "c"], CollaboratorRanking.Recommend(x, "a", CollaboratorWeights.Default, Open).Select(r => r.UserId));
        var closed = new HashSet<(string, string)> { ("b", "a") };
        Assert.Equal(["c"], CollaboratorRanking.Recommend(x, "a", CollaboratorWeights.Default, closed).Select(r => r.UserId));
    }

    [Fact]
    public void Feedback_moves_weights_by_the_documented_step_and_changes_the_order()
    {
        var f = new CollaboratorFeatures(1, 0, 0.5, 0.2);
        var w = CollaboratorWeights.Default.Normalised();
        var p = CollaboratorRanking.Directional(w, f);
        Assert.Equal(0.3 * 1 + 0.25 * 0.5 + 0.15 * 0.2, p, 12);
        var after = CollaboratorRanking.UpdateWeights(w, f, CollaboratorOutcome.Dismissed);
        var raw = new CollaboratorWeights(Math.Max(0.05, w.Skills - 0.5 * p), w.Expertise, Math.Max(0.05, w.SharedContacts - 0.5 * p * 0.5),
            w.Participation - 0.5 * p * 0.2).Normalised();
        Assert.Equal(raw.Skills, after.Skills, 12);
        Assert.Equal(raw.Expertise, after.Expertise, 12);
        Assert.Equal(raw.SharedContacts, after.SharedContacts, 12);
        Assert.Equal(raw.Participation, after.Participation, 12);

        // Dismissing a skill-string match and accepting one found through expertise: the skill weight falls and the
        // accepted kind of candidate gains on the dismissed kind in later rankings.
        var members = new List<MemberExpertise> { M("u", "kubernetes", "go"), M("tags", "kubernetes", "knitting"), M("meaning", "container orchestration", "golang services") };
        var x = Inputs(members, []);
        var start = new CollaboratorWeights(0.6, 0.1, 0.15, 0.15);
        var learned = start;
        for (var i = 0; i < 5; i++)
        {
            learned = CollaboratorRanking.UpdateWeights(learned, CollaboratorRanking.Features(x, 0, 1), CollaboratorOutcome.Dismissed);
            learned = CollaboratorRanking.UpdateWeights(learned, CollaboratorRanking.Features(x, 0, 2), CollaboratorOutcome.Accepted);
        }
        Assert.True(learned.Skills < start.Skills, $"{learned}");
        Assert.True(CollaboratorRanking.PairScore(x, 0, 2, learned) / CollaboratorRanking.PairScore(x, 0, 1, learned)
            > CollaboratorRanking.PairScore(x, 0, 2, start) / CollaboratorRanking.PairScore(x, 0, 1, start),
            $"features tags {CollaboratorRanking.Features(x, 0, 1)}, meaning {CollaboratorRanking.Features(x, 0, 2)}, weights {learned}");
    }

    [Fact]
    public void Message_topics_are_the_terms_that_set_a_member_apart()
    {
        var topics = Collaborators.MessageTopics(new Dictionary<string, List<string>>
        {
            ["ana"] = ["thanks for the update", "the tokenizer is slow again", "profiling the tokenizer and onnx runtime", "onnx batch size"],
            ["ben"] = ["thanks for the update", "invoice run failed", "invoice totals look off", "great work"],
        });
        Assert.Equal(["onnx", "tokenizer"], topics["ana"].Order());
        Assert.Equal(["invoice"], topics["ben"]);
    }
}
