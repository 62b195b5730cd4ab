using Platform.Core.Impact.Scoring;

namespace Platform.Tests.Unit.Impact;

/// <summary>The worked examples of docs/impact-scoring.md, reproduced to the cent / to 0.1 point.</summary>
public class SroiAndVisTests
{
    internal static SroiInputs WorkedExample() => new(120_000m, 0.035m,
    [
        new("Participants enter employment", 12, 18_000m, 0.25m, 0.10m, 0.30m, 0.20m, 3),
        new("Reduced isolation (well-being)", 60, 1_600m, 0.15m, 0m, 0.40m, 0.50m, 2),
        new("Language progression (one CEFR level)", 40, 900m, 0.20m, 0m, 0.25m, 0m, 1),
    ]);

    private static decimal Cents(decimal x) => Math.Round(x, 2, MidpointRounding.AwayFromZero);

    [Fact]
    public void Sroi_worked_example_from_docs_is_reproduced_exactly()
    {
        var c = SroiCalculator.Calculate(WorkedExample());
        var employment = c.Outcomes[0];
        Assert.Equal(216_000m, employment.GrossValue);
        Assert.Equal(102_060m, employment.ImpactYear1);
        Assert.Equal([102_060.00m, 81_648.00m, 65_318.40m], employment.Years.Select(y => Cents(y.Impact)));
        Assert.Equal([98_608.70m, 76_219.28m, 58_913.45m], employment.Years.Select(y => Cents(y.PresentValue)));
        Assert.Equal(233_741.43m, Cents(employment.PresentValue));
        Assert.Equal(48_960m, c.Outcomes[1].ImpactYear1);
        Assert.Equal(70_156.69m, Cents(c.Outcomes[1].PresentValue));
        Assert.Equal(20_869.57m, Cents(c.Outcomes[2].PresentValue));
        Assert.Equal(324_767.69m, Cents(c.TotalPresentValue));
        Assert.Equal(204_767.69m, Cents(c.NetPresentValue));
        Assert.Equal(2.71m, Cents(c.Ratio));
        Assert.Equal(1.71m, Cents(c.NetRatio));
        Assert.Contains(c.Steps, s => s.Contains("SROI ratio = 324767.69 / 120000.00 = 2.71", StringComparison.Ordinal));
    }

    [Fact]
    public void Sroi_more_deadweight_means_less_value_and_bad_rates_are_rejected()
    {
        var baseline = SroiCalculator.Calculate(WorkedExample()).Ratio;
        var inputs = WorkedExample();
        var heavier = inputs with { Outcomes = inputs.Outcomes.Select(o => o with { Deadweight = Math.Min(1, o.Deadweight + 0.2m) }).ToList() };
        Assert.True(SroiCalculator.Calculate(heavier).Ratio < baseline);
        Assert.Throws<ArgumentOutOfRangeException>(() => SroiCalculator.Calculate(inputs with { Outcomes = [inputs.Outcomes[0] with { Attribution = 1.2m }] }));
        Assert.Throws<ArgumentOutOfRangeException>(() => SroiCalculator.Calculate(inputs with { Investment = 0 }));
    }

    [Fact]
    public void Vis_worked_example_from_docs()
    {
        var vis = VolunteerImpact.Compute(new VolunteerActivity(Hours: 64, ParticipantsReached: 6, MeanOutcomeChange: 0.18,
            MeanParticipantRating: 0.86, ActiveMonths: 9), valueOfVolunteerHour: 29.95m);
        Assert.Equal(70.3, vis.Score, 9);
        Assert.Equal([23.8, 17.2, 12.8, 9.0, 7.5], vis.Components.Select(c => c.Points));
        Assert.Equal(1.0, vis.Components.Sum(c => c.Weight), 12);
        Assert.Equal(1_916.80m, vis.HoursValue);
    }

    [Fact]
    public void Vis_is_bounded_and_missing_scores_count_as_neutral()
    {
        var max = VolunteerImpact.Compute(new VolunteerActivity(500, 40, 0.9, 1.0, 12), 30m);
        Assert.Equal(100.0, max.Score, 9);
        var fresh = VolunteerImpact.Compute(new VolunteerActivity(0, 0, null, null, 0), 30m);
        Assert.Equal(27.5, fresh.Score, 9); // 100 × (0.35 × 0.5 + 0.20 × 0.5)
        // Nothing measured is null, not NaN: a volunteer whose participants' texts are not scored yet still has a report.
        Assert.Null(fresh.Components.Single(c => c.Name == "outcome_change").Input);
        var json = System.Text.Json.JsonSerializer.Serialize(fresh, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web));
        Assert.Contains("\"input\":null", json);
    }
}
