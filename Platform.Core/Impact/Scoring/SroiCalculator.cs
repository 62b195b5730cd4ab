namespace Platform.Core.Impact.Scoring;

/// <summary>One row of the SROI impact map. Rates are fractions 0–1.</summary>
public sealed record SroiOutcome(
    string Name, decimal Quantity, decimal FinancialProxy, decimal Deadweight, decimal Displacement,
    decimal Attribution, decimal DropOff, int DurationYears);

public sealed record SroiInputs(decimal Investment, decimal DiscountRate, IReadOnlyList<SroiOutcome> Outcomes);

public sealed record SroiYear(int Year, decimal Impact, decimal DiscountFactor, decimal PresentValue);

public sealed record SroiOutcomeCalculation(string Name, decimal GrossValue, decimal ImpactYear1, IReadOnlyList<SroiYear> Years, decimal PresentValue);

public sealed record SroiCalculation(
    string Version, IReadOnlyList<SroiOutcomeCalculation> Outcomes, decimal TotalPresentValue, decimal Investment,
    decimal NetPresentValue, decimal Ratio, decimal NetRatio, IReadOnlyList<string> Steps);

/// <summary>
/// Social Return on Investment following the SROI Network value map:
/// impact year 1 = quantity × proxy × (1−deadweight) × (1−displacement) × (1−attribution);
/// each later year = previous × (1−drop-off), for the outcome's duration;
/// PV = Σ impact_t / (1+r)^t (t from 1); ratio = PV / investment; net ratio = (PV − investment) / investment.
/// Decimal arithmetic so a documented worked example reproduces to the cent.
/// </summary>
public static class SroiCalculator
{
    public const string Version = "sroi/1";

    public static SroiCalculation Calculate(SroiInputs inputs)
    {
        if (inputs.Investment <= 0) throw new ArgumentOutOfRangeException(nameof(inputs), "Investment must be positive.");
        if (inputs.DiscountRate < 0) throw new ArgumentOutOfRangeException(nameof(inputs), "Discount rate must not be negative.");
        var steps = new List<string>();
        var outcomes = new List<SroiOutcomeCalculation>();
        foreach (var o in inputs.Outcomes)
        {
            foreach (var (rate, name) in new[] { (o.Deadweight, "deadweight"), (o.Displacement, "displacement"), (o.Attribution, "attribution"), (o.DropOff, "drop-off") })
                if (rate is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(inputs), $"{o.Name}: {name} {rate} outside 0..1.");
            if (o.DurationYears < 1) throw new ArgumentOutOfRangeException(nameof(inputs), $"{o.Name}: duration must be at least one year.");
            var gross = o.Quantity * o.FinancialProxy;
            var year1 = gross * (1 - o.Deadweight) * (1 - o.Displacement) * (1 - o.Attribution);
            steps.Add($"{o.Name}: gross = {o.Quantity} × {o.FinancialProxy} = {R(gross)}; impact year 1 = {R(gross)} × (1−{o.Deadweight}) × (1−{o.Displacement}) × (1−{o.Attribution}) = {R(year1)}");
            var years = new List<SroiYear>();
            var impact = year1;
            var factor = 1m;
            var pv = 0m;
            for (var t = 1; t <= o.DurationYears; t++)
            {
                if (t > 1) impact *= 1 - o.DropOff;
                factor /= 1 + inputs.DiscountRate;
                var yearPv = impact * factor;
                years.Add(new SroiYear(t, impact, factor, yearPv));
                steps.Add($"{o.Name}: year {t} impact {R(impact)} × 1/(1+{inputs.DiscountRate})^{t} ({factor:F6}) = {R(yearPv)}");
                pv += yearPv;
            }
            outcomes.Add(new SroiOutcomeCalculation(o.Name, gross, year1, years, pv));
        }
        var total = outcomes.Sum(o => o.PresentValue);
        var npv = total - inputs.Investment;
        steps.Add($"Present value = {R(total)}; investment = {R(inputs.Investment)}; NPV = {R(npv)}");
        var ratio = total / inputs.Investment;
        steps.Add($"SROI ratio = {R(total)} / {R(inputs.Investment)} = {ratio:F2} : 1");
        return new SroiCalculation(Version, outcomes, total, inputs.Investment, npv, ratio, npv / inputs.Investment, steps);
    }

    private static string R(decimal x) => Math.Round(x, 2, MidpointRounding.AwayFromZero).ToString("F2", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Inputs for one volunteer over a period (normally a year); see docs/impact-scoring.md §VIS.</summary>
public sealed record VolunteerActivity(
    decimal Hours, int ParticipantsReached, double? MeanOutcomeChange, double? MeanParticipantRating,
    int ActiveMonths, int PeriodMonths = 12);

/// <summary>One VIS component; <c>Input</c> is null when there is nothing to measure yet (no scored texts, no ratings).</summary>
public sealed record VisComponent(string Name, double? Input, double Normalised, double Weight, double Points);

public sealed record VolunteerImpactScore(string Version, double Score, IReadOnlyList<VisComponent> Components, decimal HoursValue);

/// <summary>
/// Volunteer Impact Score, 0–100: a weighted sum of five normalised components —
/// outcome change of the volunteer's participants (0.35), participants' rating of the volunteer
/// (0.20), hours (0.20, capped at 100 h), reach (0.15, capped at 10 participants) and consistency
/// (0.10, active months / period months). A missing outcome or rating counts as neutral (0.5) so a
/// new volunteer is not punished for the absence of scores. Hours are also valued in money
/// (VIVA-style: hours × value of a volunteer hour), reported beside the score, not inside it.
/// </summary>
public static class VolunteerImpact
{
    public const string Version = "vis/1";
    public const double OutcomeWeight = 0.35, RatingWeight = 0.20, HoursWeight = 0.20, ReachWeight = 0.15, ConsistencyWeight = 0.10;
    public const double HoursCap = 100, ReachCap = 10;

    public static VolunteerImpactScore Compute(VolunteerActivity a, decimal valueOfVolunteerHour)
    {
        if (a.Hours < 0 || a.ParticipantsReached < 0 || a.ActiveMonths < 0 || a.PeriodMonths <= 0) throw new ArgumentOutOfRangeException(nameof(a));
        // Outcome change is the mean (last − first) of the 0–1 dimension scores, so −0.5..+0.5 maps to 0..1.
        var outcome = a.MeanOutcomeChange is double d ? Math.Clamp(0.5 + d, 0, 1) : 0.5;
        var rating = a.MeanParticipantRating is double r ? Math.Clamp(r, 0, 1) : 0.5;
        var hours = Math.Min((double)a.Hours / HoursCap, 1);
        var reach = Math.Min(a.ParticipantsReached / ReachCap, 1);
        var consistency = Math.Clamp((double)a.ActiveMonths / a.PeriodMonths, 0, 1);
        VisComponent C(string name, double? input, double norm, double w) => new(name, input, norm, w, Math.Round(100 * w * norm, 2));
        var components = new List<VisComponent>
        {
            C("outcome_change", a.MeanOutcomeChange, outcome, OutcomeWeight),
            C("participant_rating", a.MeanParticipantRating, rating, RatingWeight),
            C("hours", (double)a.Hours, hours, HoursWeight),
            C("reach", a.ParticipantsReached, reach, ReachWeight),
            C("consistency", a.ActiveMonths, consistency, ConsistencyWeight),
        };
        var score = Math.Round(100 * components.Sum(c => c.Weight * c.Normalised), 1);
        return new VolunteerImpactScore(Version, score, components, a.Hours * valueOfVolunteerHour);
    }
}
