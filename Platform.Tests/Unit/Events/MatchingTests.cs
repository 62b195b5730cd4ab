using System.Diagnostics;
using Platform.Core.Events.Matching;
using Xunit.Abstractions;

namespace Platform.Tests.Unit.Events;

public class ReciprocalMatcherTests
{
    private static readonly HashSet<(string, string)> NoDeclines = [];

    private static AttendeeProfile P(string id, string company, string[] interests, string[] offering, string[] seeking, string bio, bool consent = true) =>
        new(id, "Name " + id, company, interests.ToDictionary(t => t, _ => 1.0), offering, seeking, bio, consent);

    /// <summary>A small conference with a planted ideal pair (ana ↔ ben): shared interests, mutual offer/need, similar bios.</summary>
    internal static List<AttendeeProfile> Conference() =>
    [
        P("ana", "Fjord Capital", ["fintech", "climate", "payments"], ["seed funding"], ["payments api", "pilot customers"],
            "Partner at a climate fintech fund investing in payments infrastructure for Nordic startups."),
        P("ben", "Ledgerly", ["fintech", "payments", "climate"], ["payments api", "pilot customers"], ["seed funding"],
            "Founder building a payments api for climate fintech startups in the Nordic market."),
        P("cara", "Ledgerly", ["fintech", "payments"], ["payments api"], ["seed funding"], "Engineer on the payments api at Ledgerly."),
        P("dan", "HealthOps", ["healthtech", "ai"], ["data science"], ["hospital partners"], "Data scientist working on hospital scheduling."),
        P("eve", "Greenhouse", ["climate", "energy"], ["mentoring"], ["grants"], "Runs a community energy cooperative."),
        P("fay", "Bankwise", ["fintech", "regtech"], ["compliance advice"], ["payments api"], "Compliance lead at a retail bank."),
        P("gus", "Solo", ["fintech", "payments", "climate"], ["seed funding"], ["payments api"], "Angel investor.", consent: false),
    ];

    [Fact]
    public void Pair_score_is_symmetric_and_the_harmonic_mean_of_both_directions()
    {
        var x = new MatchingIndex(Conference());
        var w = MatchWeights.Default;
        for (var a = 0; a < x.Count; a++)
            for (var b = 0; b < x.Count; b++)
            {
                Assert.Equal(ReciprocalMatcher.PairScore(x, a, b, w), ReciprocalMatcher.PairScore(x, b, a, w), 12);
                var ab = ReciprocalMatcher.Directional(w, ReciprocalMatcher.Features(x, a, b));
                var ba = ReciprocalMatcher.Directional(w, ReciprocalMatcher.Features(x, b, a));
                Assert.Equal(ab + ba == 0 ? 0 : 2 * ab * ba / (ab + ba), ReciprocalMatcher.PairScore(x, a, b, w), 12);
            }
        // Complementarity is directional: fay seeks what ben offers, ben does not seek what fay offers.
        var fb = ReciprocalMatcher.Features(x, x.PositionOf("fay"), x.PositionOf("ben"));
        var bf = ReciprocalMatcher.Features(x, x.PositionOf("ben"), x.PositionOf("fay"));
        Assert.Equal(1.0, fb.Complementarity);
        Assert.Equal(0.0, bf.Complementarity);
        Assert.Equal(fb.InterestOverlap, bf.InterestOverlap, 12);
    }

    [Fact]
    public void Weighted_jaccard_uses_interest_weights()
    {
        var a = new AttendeeProfile("a", "A", "x", new Dictionary<string, double> { ["ai"] = 2, ["health"] = 1 }, [], [], null, true);
        var b = new AttendeeProfile("b", "B", "y", new Dictionary<string, double> { ["ai"] = 1, ["energy"] = 1 }, [], [], null, true);
        var x = new MatchingIndex([a, b]);
        // min: ai 1; max over union: ai 2 + health 1 + energy 1 = 4 → 0.25
        Assert.Equal(0.25, ReciprocalMatcher.Features(x, 0, 1).InterestOverlap, 12);
    }

    [Fact]
    public void Planted_ideal_pair_ranks_first_with_reasons_and_a_starter()
    {
        var x = new MatchingIndex(Conference());
        var recs = ReciprocalMatcher.Recommend(x, "ana", MatchWeights.Default, NoDeclines);
        Assert.Equal("ben", recs[0].AttendeeId);
        Assert.Contains(recs[0].Reasons, r => r.Contains("fintech", StringComparison.Ordinal));
        Assert.Contains(recs[0].Reasons, r => r.Contains("offers payments api", StringComparison.Ordinal));
        Assert.Contains("payments api", recs[0].ConversationStarter, StringComparison.Ordinal);
        Assert.True(recs.Zip(recs.Skip(1)).All(p => p.First.Score >= p.Second.Score));
        Assert.Equal("ana", ReciprocalMatcher.Recommend(x, "ben", MatchWeights.Default, NoDeclines)[0].AttendeeId);
    }

    [Fact]
    public void Exclusions_same_company_declined_and_no_consent_are_honoured()
    {
        var x = new MatchingIndex(Conference());
        var forBen = ReciprocalMatcher.Recommend(x, "ben", MatchWeights.Default, NoDeclines, limit: 10).Select(r => r.AttendeeId).ToList();
        Assert.DoesNotContain("cara", forBen); // same company (Ledgerly)
        Assert.DoesNotContain("gus", forBen);  // no consent
        Assert.DoesNotContain("ben", forBen);
        Assert.Empty(ReciprocalMatcher.Recommend(x, "gus", MatchWeights.Default, NoDeclines));
        // ana declined ben once: neither sees the other again.
        var declined = new HashSet<(string, string)> { ("ana", "ben") };
        Assert.DoesNotContain("ben", ReciprocalMatcher.Recommend(x, "ana", MatchWeights.Default, declined).Select(r => r.AttendeeId));
        Assert.DoesNotContain("ana", ReciprocalMatcher.Recommend(x, "ben", MatchWeights.Default, declined).Select(r => r.AttendeeId));
    }

    [Fact]
    public void Feedback_shifts_weights_as_documented_and_changes_later_rankings()
    {
        // For "u": "tags" shares every interest but has an unrelated bio; "prose" shares no interest but writes like u.
        var profiles = new List<AttendeeProfile>
        {
            P("u", "U", ["robotics", "logistics", "ai"], [], [], "warehouse robotics fleet routing optimisation research"),
            P("tags", "T", ["robotics", "logistics", "ai"], [], [], "sales marketing events"),
            P("prose", "R", ["gardening"], [], [], "warehouse robotics fleet routing optimisation"),
            P("other", "O", ["music"], [], [], "jazz guitar"),
        };
        var x = new MatchingIndex(profiles);
        var w = MatchWeights.Default;
        Assert.Equal("tags", ReciprocalMatcher.Recommend(x, "u", w, NoDeclines)[0].AttendeeId);

        // Documented update: declined → target 0, so the components that drove the match lose weight.
        var tagsFeatures = ReciprocalMatcher.Features(x, 0, 1);
        var afterDecline = ReciprocalMatcher.UpdateWeights(w, tagsFeatures, MatchOutcome.Declined);
        var p = ReciprocalMatcher.Directional(w.Normalised(), tagsFeatures);
        var raw = new MatchWeights(
            Math.Max(0.05, w.Interests - 0.5 * p * tagsFeatures.InterestOverlap),
            Math.Max(0.05, w.Complementarity - 0.5 * p * tagsFeatures.Complementarity),
            Math.Max(0.05, w.Bio - 0.5 * p * tagsFeatures.BioSimilarity),
            Math.Max(0.05, w.Semantic - 0.5 * p * tagsFeatures.SemanticSimilarity)).Normalised();
        Assert.Equal(raw, afterDecline);
        Assert.True(afterDecline.Interests < w.Interests);

        // Meeting people found through bios raises the bio weight.
        var proseFeatures = ReciprocalMatcher.Features(x, 0, 2);
        var learned = w;
        for (var i = 0; i < 5; i++)
        {
            learned = ReciprocalMatcher.UpdateWeights(learned, tagsFeatures, MatchOutcome.Declined);
            learned = ReciprocalMatcher.UpdateWeights(learned, proseFeatures, MatchOutcome.Met);
        }
        Assert.True(learned.Bio > w.Bio && learned.Interests < w.Interests);
        Assert.Equal(1.0, learned.Interests + learned.Complementarity + learned.Bio + learned.Semantic, 12);
        Assert.Equal("prose", ReciprocalMatcher.Recommend(x, "u", learned, NoDeclines)[0].AttendeeId);
    }

}


public class GatheringSuggesterTests
{
    private static readonly DateTimeOffset Day = DateTimeOffset.Parse("2026-05-12T09:00:00Z");
    private static AvailabilitySlot Slot(int fromHour, int toHour) => new(Day.AddHours(fromHour), Day.AddHours(toHour));

    [Fact]
    public void Clusters_share_an_interest_fit_availability_and_capacity()
    {
        var candidates = new List<GatheringCandidate>();
        for (var i = 0; i < 7; i++) candidates.Add(new($"fin{i}", ["fintech", i % 2 == 0 ? "payments" : "regtech"], [Slot(1, 3)]));
        candidates.Add(new("fin-busy", ["fintech"], [Slot(5, 6)]));                    // shares interest, wrong time
        candidates.Add(new("fin-noconsent", ["fintech"], [Slot(1, 3)], ConsentToInvites: false));
        for (var i = 0; i < 3; i++) candidates.Add(new($"bio{i}", ["biotech"], [Slot(5, 7)]));
        var suggestions = GatheringSuggester.Suggest(candidates, TimeSpan.FromHours(1), capacity: 5, minimumSize: 3);

        // 7 free fintech people → one gathering of 5; biotech 3 → a second; the 2 fintech left are below the minimum.
        Assert.Equal(2, suggestions.Count);
        Assert.Equal("biotech", suggestions[1].Topic);
        var first = suggestions[0];
        Assert.Equal("fintech", first.Topic);
        Assert.Equal(5, first.Invitees.Count);
        Assert.DoesNotContain("fin-busy", first.Invitees);
        Assert.DoesNotContain("fin-noconsent", suggestions.SelectMany(s => s.Invitees));
        foreach (var s in suggestions)
        {
            Assert.True(s.Invitees.Count <= 5);
            foreach (var id in s.Invitees)
            {
                var c = candidates.Single(c => c.AttendeeId == id);
                Assert.Contains(c.Availability, a => a.Covers(s.Start, s.End));
                Assert.Contains(s.Topic, c.Interests);
            }
        }
        Assert.Equal(suggestions.SelectMany(s => s.Invitees).Count(), suggestions.SelectMany(s => s.Invitees).Distinct().Count());
    }

    [Fact]
    public void Invitees_for_a_gathering_respect_time_capacity_and_existing_invites()
    {
        var g = new GatheringSlot(["ai", "health"], Day.AddHours(2), Day.AddHours(3), Capacity: 3, AlreadyInvited: ["x"]);
        var candidates = new List<GatheringCandidate>
        {
            new("both", ["ai", "health"], [Slot(1, 4)]),
            new("one", ["ai", "music"], [Slot(2, 3)]),
            new("late", ["ai", "health"], [Slot(2, 2)]),            // free only at 11:00 sharp, not for the hour
            new("nothing", ["music"], [Slot(0, 8)]),
            new("x", ["ai"], [Slot(0, 8)]),
            new("more", ["health"], [Slot(0, 8)]),
        };
        var invitees = GatheringSuggester.InviteesFor(g, candidates);
        Assert.Equal(["both", "more"], invitees); // 2 free seats; "both" Jaccard 1, "more" 1/2, "one" 1/3
        Assert.Empty(GatheringSuggester.InviteesFor(g with { Capacity = 1 }, candidates));
    }
}
