using Platform.Core.Civic;

namespace Platform.Tests.Unit.Civic;

public class CivicPureTests
{
    private static readonly Guid Artifact = Guid.Parse("0193a000-0000-7000-8000-000000000001");

    public static TheoryData<string> SeedDocuments()
    {
        var data = new TheoryData<string>();
        foreach (var f in CivicSeeds.Documents(CivicSeeds.Riverton).Concat(CivicSeeds.Documents(CivicSeeds.Lakeshore)))
        {
            data.Add(Path.GetRelativePath(CivicSeeds.Root, f));
        }
        return data;
    }

    private static string TextOf(string relative)
    {
        var path = Path.Combine(CivicSeeds.Root, relative);
        return DocumentText.Extract(File.ReadAllBytes(path), DocumentText.MediaTypeOf(path));
    }

    [Fact]
    public void The_seeds_hold_two_cities_with_at_least_twelve_minutes() =>
        Assert.True(CivicSeeds.Documents(CivicSeeds.Riverton).Count() + CivicSeeds.Documents(CivicSeeds.Lakeshore).Count() >= 12);

    [Theory]
    [MemberData(nameof(SeedDocuments))]
    public void Every_recorded_vote_becomes_a_decision_whose_evidence_is_the_artifact_text(string relative)
    {
        var text = TextOf(relative);
        var extraction = MinutesExtractor.Extract(text);
        var draft = ExtractiveSummarizer.Summarize(Artifact, text, extraction, "fallback");

        Assert.Equal(CivicSeeds.VoteLines(text), extraction.Votes.Count);
        Assert.Equal(extraction.Votes.Count, draft.KeyDecisions.Count);
        Assert.All(extraction.Votes, v => Assert.NotEqual("unknown", v.Outcome));
        Assert.All(extraction.Votes, v => Assert.NotNull(v.MotionRef));
        Assert.NotNull(extraction.MeetingDate);
        Assert.All(draft.Claims.SelectMany(c => c.Evidence), e => Assert.Equal(text[e.Start..e.End], e.Excerpt));
        Assert.InRange(QualityGate.SentenceCount(draft.ShortSummary), 1, 3);
        var gate = QualityGate.Evaluate(draft, new Dictionary<Guid, string> { [Artifact] = text }, new GateThresholds());
        Assert.Equal(GateOutcomes.Pass, gate.Outcome);
        Assert.Equal(1.0, gate.Coverage);
    }

    [Fact]
    public void Roll_call_votes_yield_tallies_and_amendments_attach_to_the_amendment()
    {
        var text = TextOf("riverton/2025-02-25-regular.txt");
        var x = MinutesExtractor.Extract(text);
        var amendmentVotes = x.Votes.Where(v => x.Motions.Single(m => m.Ref == v.MotionRef).Kind == "amendment").ToList();
        Assert.Equal(2, amendmentVotes.Count);
        Assert.Equal(("carried", 3, 2), (amendmentVotes[0].Outcome, amendmentVotes[0].Ayes!.Value, amendmentVotes[0].Nays!.Value));
        Assert.Equal(("failed", 2, 3), (amendmentVotes[1].Outcome, amendmentVotes[1].Ayes!.Value, amendmentVotes[1].Nays!.Value));
        var main = x.Votes.Single(v => v.RollCall && x.Motions.Single(m => m.Ref == v.MotionRef).Text.Contains("introduce Ordinance 2025-04", StringComparison.Ordinal));
        Assert.Equal(["Okafor", "Lindqvist", "Reyes", "Park", "Alvarez"], main.AyeNames);
        Assert.Equal(5, main.Ayes);
        Assert.Contains(x.AgendaItems, i => i.Title == "PUBLIC COMMENT");
    }

    [Fact]
    public void Pdf_text_through_PdfPig_equals_the_minutes_it_was_written_from_apart_from_page_breaks()
    {
        foreach (var src in Directory.EnumerateFiles(Path.Combine(CivicSeeds.Root, "pdf-src")))
        {
            var expected = DocumentText.Normalize(File.ReadAllText(src));
            var pdf = File.ReadAllBytes(Path.Combine(CivicSeeds.Lakeshore, Path.GetFileNameWithoutExtension(src) + ".pdf"));
            var text = DocumentText.Extract(pdf, "application/pdf");
            Assert.Equal(expected, text.Replace("\f\n", "", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("not a pdf at all")]
    [InlineData("%PDF-1.4\n1 0 obj << /Length 5 /Filter /FlateDecode >>\nstream\nxxxxx\nendstream\nendobj\n")]
    [InlineData("%PDF-1.4\n%%EOF\n")]
    public void Garbage_pdf_is_a_format_error(string content) =>
        Assert.Throws<DocumentFormatException>(() => DocumentText.Extract(System.Text.Encoding.Latin1.GetBytes(content), "application/pdf"));

    [Fact]
    public void Html_becomes_lines_of_text() =>
        Assert.Equal("Title\n\nA & B\n\nline two\n", DocumentText.Extract("<html><style>x{}</style><h1>Title</h1><p>A &amp; B</p><p>line <b>two</b></p></html>"u8, "text/html"));

    [Fact]
    public void Gate_rejects_fabricated_evidence()
    {
        const string text = "MOTION: Councilmember Park moved to approve the budget.\nVOTE: Motion carried 5-0.\n";
        var draft = new SummaryDraft("The council approved the budget.", [], [],
            [new Claim("decision", "Budget approved 5-0.", [new Evidence(Artifact, "vote-1", 56, 81, "VOTE: Motion carried 7-0.")])], "test");
        var gate = QualityGate.Evaluate(draft, new Dictionary<Guid, string> { [Artifact] = text }, new GateThresholds());
        Assert.Equal(GateOutcomes.Reject, gate.Outcome);
        Assert.Contains(gate.Problems, p => p.Contains("fabricated", StringComparison.Ordinal));

        var honest = draft with
        {
            KeyDecisions = [new KeyDecision("Approved the budget, 5-0", "motion", "carried", new VoteTally(5, 0, null), null, "vote-1")],
            Claims = [new Claim("decision", "Budget approved 5-0.", [new Evidence(Artifact, "vote-1", 56, 81, text[56..81])])],
        };
        Assert.Equal(GateOutcomes.Pass, QualityGate.Evaluate(honest, new Dictionary<Guid, string> { [Artifact] = text }, new GateThresholds()).Outcome);
    }

    [Theory]
    [InlineData(-1, 5)]
    [InlineData(10, 10)]
    [InlineData(0, 10_000)]
    public void Gate_rejects_offsets_outside_the_artifact(int start, int end)
    {
        var draft = new SummaryDraft("One.", [], [], [new Claim("topic", "x", [new Evidence(Artifact, "item-1", start, end, "x")])], "test");
        Assert.Equal(GateOutcomes.Reject, QualityGate.Evaluate(draft, new Dictionary<Guid, string> { [Artifact] = "some text here" }, new GateThresholds()).Outcome);
    }

    [Fact]
    public void Gate_labels_low_coverage_limited_confidence_and_rejects_below_the_floor()
    {
        const string text = "1. BUDGET\n2. PARKS\n";
        Claim With() => new("topic", "Budget.", [new Evidence(Artifact, "item-1", 0, 9, "1. BUDGET")]);
        Claim Without() => new("topic", "Something unsupported.", []);
        var texts = new Dictionary<Guid, string> { [Artifact] = text };
        var thresholds = new GateThresholds { PassCoverage = 0.85, MinCoverage = 0.5 };

        var limited = QualityGate.Evaluate(new SummaryDraft("S.", [], [], [With(), With(), Without()], "t"), texts, thresholds);
        Assert.Equal((GateOutcomes.LimitedConfidence, 0.6667), (limited.Outcome, limited.Coverage));
        Assert.Equal(GateOutcomes.Reject, QualityGate.Evaluate(new SummaryDraft("S.", [], [], [With(), Without(), Without()], "t"), texts, thresholds).Outcome);
        Assert.Equal(GateOutcomes.Reject, QualityGate.Evaluate(new SummaryDraft("A. B. C. D.", [], [], [With()], "t"), texts, thresholds).Outcome);
    }

    [Fact]
    public void Feeds_parse_as_json_and_rss()
    {
        var json = SourceReader.ParseFeed(File.ReadAllText(Path.Combine(CivicSeeds.Lakeshore, "feed.json")), "application/json");
        Assert.Equal(6, json.Count);
        Assert.Equal(("lakeshore-2025-05-06", "2025-05-06-council.pdf", "application/pdf"), (json[4].Uid, json[4].Url, json[4].MediaType));
        var rss = SourceReader.ParseFeed(File.ReadAllText(Path.Combine(CivicSeeds.Lakeshore, "feed.xml")), "application/rss+xml");
        Assert.Equal(2, rss.Count);
        Assert.Equal(new DateOnly(2025, 5, 6), rss[1].Date);
        Assert.Equal("2025-05-06-council.pdf", rss[1].Url);
        Assert.Throws<SourceException>(() => SourceReader.ParseFeed("<html>oops", "text/html"));
    }
}
