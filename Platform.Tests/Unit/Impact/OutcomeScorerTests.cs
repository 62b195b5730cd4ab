using System.Security.Cryptography;
using System.Text;
using Platform.Core.Impact.Scoring;

namespace Platform.Tests.Unit.Impact;

public class OutcomeScorerTests
{
    [Fact]
    public void Dimensions_without_evidence_abstain()
    {
        var s = OutcomeScorer.Score("We met at the library at 10. The room was booked until noon.");
        Assert.Equal(OutcomeScorer.ModelVersion, s.ModelVersion);
        Assert.All(s.Dimensions.Values, d => { Assert.True(d.Abstained); Assert.Equal(0, d.Confidence); Assert.Empty(d.Evidence); });
        var one = OutcomeScorer.Score("I feel lonely most evenings.");
        Assert.NotNull(one.Dimensions[OutcomeDimensions.Belonging].Score);
        Assert.Null(one.Dimensions[OutcomeDimensions.JobReadiness].Score);
    }

    [Fact]
    public void Negation_flips_a_cue()
    {
        var afraid = OutcomeScorer.Score("I am afraid to speak in the group.").Dimensions[OutcomeDimensions.Confidence].Score!.Value;
        var notAfraid = OutcomeScorer.Score("I am no longer afraid to speak in the group.").Dimensions[OutcomeDimensions.Confidence].Score!.Value;
        Assert.True(afraid < 0.5);
        Assert.True(notAfraid > 0.5);
        Assert.True(OutcomeScorer.Score("I am not lonely.").Dimensions[OutcomeDimensions.Belonging].Score > 0.5);
        // An emphatic "never ... so" is not a negation.
        Assert.True(OutcomeScorer.Score("I never felt so welcome.").Dimensions[OutcomeDimensions.Belonging].Score > 0.5);
    }

    [Fact]
    public void Intensity_and_change_markers_scale_the_score()
    {
        double Conf(string t) => OutcomeScorer.Score(t).Dimensions[OutcomeDimensions.Confidence].Score!.Value;
        var plain = Conf("I feel confident at work.");
        var very = Conf("I feel very confident at work.");
        var slightly = Conf("I feel slightly confident at work.");
        var now = Conf("I feel confident at work now.");
        Assert.True(very > plain && plain > slightly && slightly > 0.5);
        Assert.True(now > plain);
        // 0.5 + 0.5·tanh(2/2) for a single weight-2 cue.
        Assert.Equal(Math.Round(0.5 + 0.5 * Math.Tanh(1), 3), plain, 9);
    }

    [Fact]
    public void Evidence_carries_the_sentence_offsets_cues_and_sha256()
    {
        const string text = "We met at ten. I made friends at the course! The bus was late.";
        var d = OutcomeScorer.Score(text).Dimensions[OutcomeDimensions.Belonging];
        var e = Assert.Single(d.Evidence);
        Assert.Equal("I made friends at the course!", e.Sentence);
        Assert.Equal(e.Sentence, text.Substring(e.Start, e.Length));
        Assert.Contains("made friends", e.Cues);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(e.Sentence))), e.Sha256);
        Assert.Equal(64, e.Sha256.Length);
        Assert.InRange(d.Confidence, 0.01, 1);
    }

    [Fact]
    public void Conflicting_evidence_lowers_confidence_and_pulls_toward_the_middle()
    {
        var agree = OutcomeScorer.Score("I feel lonely. I have no friends here.").Dimensions[OutcomeDimensions.Belonging];
        var conflict = OutcomeScorer.Score("I feel lonely. The group made me feel welcome.").Dimensions[OutcomeDimensions.Belonging];
        Assert.True(agree.Score < 0.2);
        Assert.True(conflict.Score > agree.Score);
        Assert.True(conflict.Confidence < agree.Confidence);
        Assert.Equal(2, conflict.Evidence.Count);
    }
}

