using Platform.Core.Civic;
using Platform.Eval.Civic;

namespace Platform.Tests.Unit.Civic;

/// <summary>Extraction on minutes as cities write them, measured against the corpus in eval/civic.</summary>
public class CivicExtractionTests
{
    private static readonly Guid Artifact = Guid.Parse("0193a000-0000-7000-8000-000000000002");
    private static readonly string Corpus = CivicEvaluation.FindCorpus(AppContext.BaseDirectory);

    [Fact]
    public void The_corpus_holds_forty_minutes_a_quarter_of_them_held_out()
    {
        var dev = CivicEvaluation.LoadTruth(Path.Combine(Corpus, "dev")).Count;
        var heldout = CivicEvaluation.LoadTruth(Path.Combine(Corpus, "heldout")).Count;
        Assert.True(dev + heldout >= 40, $"{dev} + {heldout} documents");
        Assert.True(heldout * 4 >= dev + heldout, $"{heldout} of {dev + heldout} held out");
    }

    [Theory]
    [InlineData("heldout")]
    [InlineData("dev")]
    public void Extraction_meets_the_floors(string set)
    {
        var figures = CivicEvaluation.Evaluate(Path.Combine(Corpus, set), set);
        var detail = CivicEvaluation.Report(figures) + string.Join('\n', figures.Misses);
        Assert.True(figures.Recall >= 0.9, detail);
        Assert.True(figures.OutcomeAccuracy >= 0.95, detail);
        Assert.True(figures.TallyAccuracy >= 0.95, detail);
        Assert.True(figures.DateAccuracy >= 0.95, detail);
    }

    /// <summary>The minutes a new user tried: clerk prose, an amendment voted before its main motion, a tie, a table, a consent calendar.</summary>
    private const string Prose = """
        CITY OF GRANITE BAY
        City Council - Regular Meeting Minutes
        Tuesday, June 2, 2026

        CONSENT CALENDAR
        Councilmember Ames moved to approve the consent calendar; seconded by Councilmember Bell. The motion carried unanimously.

        BUDGET
        Councilmember Ames moved to adopt the FY 2027 capital improvement budget, seconded by Councilmember Bell. Councilmember Cruz moved to amend the motion to defer the Main Street garage; seconded by Councilmember Diaz. The amendment failed 2-5. The main motion carried 5-2 (Cruz and Diaz opposed).

        PARKING
        Councilmember Cruz moved to table the parking study, seconded by Councilmember Diaz. The motion to table carried 4-3.

        FEES
        Councilmember Diaz moved to raise the permit fees by 5%; Councilmember Evans seconded. The motion failed on a 3-3 tie.

        ADJOURNMENT
        The meeting adjourned at 9:10 p.m.
        """;

    [Fact]
    public void Clerk_prose_yields_every_decision_phrased_from_its_motion_and_the_date_and_title_from_the_text()
    {
        var text = DocumentText.Normalize(Prose);
        var x = MinutesExtractor.Extract(text);
        var draft = ExtractiveSummarizer.Summarize(Artifact, text, x, "2026-06-02-minutes");

        Assert.Equal(new DateOnly(2026, 6, 2), x.MeetingDate);
        Assert.Equal("Granite Bay City Council regular meeting, June 2, 2026", x.Title);
        Assert.Equal(
            ["Approved the consent calendar", "Rejected a motion to amend the motion to defer the Main Street garage, 2-5",
             "Adopted the FY 2027 capital improvement budget, 5-2", "Tabled the parking study, 4-3", "Rejected a motion to raise the permit fees by 5%, 3-3"],
            draft.KeyDecisions.OrderBy(d => d.SectionRef, StringComparer.Ordinal).Select(d => d.Motion));
        Assert.Equal(["carried", "failed", "carried", "tabled", "failed"], draft.KeyDecisions.Select(d => d.Outcome));
        Assert.StartsWith("Granite Bay City Council regular meeting, June 2, 2026: 5 decisions", draft.ShortSummary, StringComparison.Ordinal);
        Assert.Equal(["Ames", "Ames", "Cruz", "Cruz", "Diaz"], x.Motions.Select(m => m.Mover).Order(StringComparer.Ordinal));
        var gate = QualityGate.Evaluate(draft, new Dictionary<Guid, string> { [Artifact] = text }, new GateThresholds());
        Assert.Equal(GateOutcomes.Pass, gate.Outcome);
    }

    [Fact]
    public void A_document_that_records_votes_but_yields_fewer_decisions_is_at_best_limited_confidence()
    {
        var text = DocumentText.Normalize(Prose);
        var x = MinutesExtractor.Extract(text);
        var full = ExtractiveSummarizer.Summarize(Artifact, text, x, "t");
        var texts = new Dictionary<Guid, string> { [Artifact] = text };

        // Coverage is 1.0 either way: every claim that is there has its evidence. Only the vote count tells.
        var missing = full with { KeyDecisions = full.KeyDecisions.Take(2).ToList(), Claims = full.Claims.Skip(3).ToList() };
        var gate = QualityGate.Evaluate(missing, texts, new GateThresholds());
        Assert.Equal((GateOutcomes.LimitedConfidence, 1.0), (gate.Outcome, gate.Coverage));
        Assert.Contains(gate.Warnings!, w => w.Contains("but the summary has 2 decisions", StringComparison.Ordinal));

        var none = full with { KeyDecisions = [], Claims = full.Claims.Where(c => c.Kind == "topic").ToList() };
        Assert.Equal(GateOutcomes.LimitedConfidence, QualityGate.Evaluate(none, texts, new GateThresholds()).Outcome);
    }

    [Fact]
    public void Pdf_evidence_names_the_page_it_is_on()
    {
        var path = Path.Combine(Corpus, "dev", "foxborough-30.pdf");
        var text = DocumentText.Extract(File.ReadAllBytes(path), "application/pdf");
        var x = MinutesExtractor.Extract(text);
        var draft = ExtractiveSummarizer.Summarize(Artifact, text, x, "t");
        var evidence = draft.Claims.SelectMany(c => c.Evidence).ToList();
        Assert.All(evidence, e => Assert.Equal(DocumentText.PageOf(text, e.Start), e.Page));
        Assert.Contains(evidence, e => e.Page == 1);
        Assert.Contains(evidence, e => e.Page == 2 && e.Excerpt.Contains("eight in favor", StringComparison.Ordinal));
        Assert.Equal(2, evidence.Max(e => e.Page));
    }

    [Fact]
    public void Pdfs_over_the_page_or_text_caps_are_refused()
    {
        var pdf = File.ReadAllBytes(Path.Combine(Corpus, "dev", "foxborough-30.pdf"));
        var pages = Assert.Throws<DocumentFormatException>(() => DocumentText.Extract(pdf, "application/pdf", new DocumentLimits { MaxPdfPages = 1 }));
        Assert.Contains("2 pages", pages.Message, StringComparison.Ordinal);
        Assert.Throws<DocumentFormatException>(() => DocumentText.Extract(pdf, "application/pdf", new DocumentLimits { MaxTextBytes = 1000 }));
        Assert.Throws<DocumentFormatException>(() => DocumentText.Extract("x"u8.ToArray().Concat(new byte[5000].Select(_ => (byte)'a')).ToArray(), "text/plain",
            new DocumentLimits { MaxTextBytes = 1000 }));
    }

    [Fact]
    public void Html_roll_call_tables_keep_their_cells_apart()
    {
        var text = DocumentText.Extract("<p>Motion: Councilmember Ortega Second: Councilmember Kim</p><p>Action: Adopt Ordinance 12.</p><table><tr><td>Ortega</td><td>Aye</td></tr><tr><td>Kim</td><td>Nay</td></tr><tr><td>Lund</td><td>Aye</td></tr></table><p>Result: Adopted, 2-1.</p>"u8, "text/html");
        Assert.Contains("Ortega | Aye", text, StringComparison.Ordinal);
        var x = MinutesExtractor.Extract(text);
        var vote = Assert.Single(x.Votes);
        Assert.Equal(("carried", 2, 1), (vote.Outcome, vote.Ayes!.Value, vote.Nays!.Value));
        Assert.Equal("to adopt Ordinance 12", x.Motions.Single().Text);
        Assert.Equal(("Ortega", "Kim"), (x.Motions.Single().Mover, x.Motions.Single().Seconder));
    }

    [Theory]
    [InlineData("to adopt the budget", "carried", 5, 2, "Adopted the budget, 5-2")]
    [InlineData("to deny the appeal", "carried", 3, 2, "Denied the appeal, 3-2")]
    [InlineData("to refer the ordinance to committee", "referred", null, null, "Referred the ordinance to committee")]
    [InlineData("to continue the hearing to May 5", "continued", 5, 0, "Continued the hearing to May 5, 5-0")]
    [InlineData("to send the plan back to staff", "failed", 3, 4, "Rejected a motion to send the plan back to staff, 3-4")]
    [InlineData("to waive the fee", "withdrawn", null, null, "Motion to waive the fee withdrawn")]
    [InlineData("the item: without objection, the agenda was approved", "carried", null, null, "Without objection, the agenda was approved")]
    public void Decisions_read_as_a_resident_would_say_them(string motion, string outcome, int? ayes, int? nays, string expected) =>
        Assert.Equal(expected, DecisionPhrase.Of(motion, outcome, ayes is null ? null : new VoteTally(ayes, nays, null)));
}
