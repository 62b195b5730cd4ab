namespace Platform.Core.Community.Algorithms;

public enum SignalKind { Message, Reply, Mention, Reaction, Endorsement, EventAttendance, LearningLog }

/// <summary>One community signal over dense member indices. Target is null for undirected activity.</summary>
public readonly record struct InteractionSignal(int Actor, int? Target, SignalKind Kind, DateTimeOffset OccurredAt, double? Weight = null);

public sealed record ChampionRankingParameters
{
    public TimeSpan Window { get; init; } = TimeSpan.FromDays(30);
    public TimeSpan HalfLife { get; init; } = TimeSpan.FromDays(14);
    public double Damping { get; init; } = 0.85;
    /// <summary>Tighter than NetworkX's 1e-6 because its L1 stop rule (err &lt; n·tol) loosens with n.</summary>
    public double PageRankTolerance { get; init; } = 1e-10;
    /// <summary>Reply 3, endorsement 2, mention 2, reaction 1: the more effort a signal takes, the more it says about a tie (docs/community-algorithms.md); untargeted kinds add no tie.</summary>
    public IReadOnlyDictionary<SignalKind, double> KindWeights { get; init; } = new Dictionary<SignalKind, double>
    {
        [SignalKind.Reply] = 3, [SignalKind.Endorsement] = 2, [SignalKind.Mention] = 2, [SignalKind.Reaction] = 1,
        [SignalKind.Message] = 1, [SignalKind.EventAttendance] = 1, [SignalKind.LearningLog] = 1,
    };
    public double ChampionPageRankWeight { get; init; } = 0.8;
    public double ChampionEndorsementWeight { get; init; } = 0.2;
    public double ConnectorBetweennessWeight { get; init; } = 0.5;
    public double ConnectorParticipationWeight { get; init; } = 0.3;
    public double ConnectorLowConstraintWeight { get; init; } = 0.2;
    public int ExactBetweennessNodeLimit { get; init; } = Betweenness.DefaultExactNodeLimit;
    public int BetweennessSampleSources { get; init; } = Betweenness.DefaultSampleSources;
    public int WhyLimit { get; init; } = 3;
    /// <summary>Only the top entries of each list get a "why"; nobody reads reasons for rank 9,000.</summary>
    public int ExplainTop { get; init; } = 200;
}

/// <summary>A relation that explains a rank: who, and what share of the score it carries.</summary>
public sealed record RankingReason(int Member, string Relation, double Share);

public sealed record RankedMember(int Member, int Rank, double Score, IReadOnlyDictionary<string, double> Components, IReadOnlyList<RankingReason> Why);

public sealed record ChampionRankingResult(
    IReadOnlyList<RankedMember> Champions, IReadOnlyList<RankedMember> Connectors,
    bool BetweennessExact, double BetweennessErrorBound95, int PageRankIterations, int Members, int Ties, int SignalsUsed);

/// <summary>
/// Champions (influence: weighted PageRank + endorsements) and connectors (brokerage: betweenness,
/// cross-team participation, low Burt constraint) from one window of signals. Each component is
/// scaled to [0,1] before the weighted sum so the weights mean what they say; every entry carries
/// its components and the relations that contributed most.
/// </summary>
public static class ChampionRanking
{
    public const string Version = "champion-ranking/1+" + PageRank.Version + "+" + Betweenness.Version + "+" + Participation.Version + "+" + BurtConstraint.Version;

    public static ChampionRankingResult Rank(int memberCount, int[] teamOf, IReadOnlyList<InteractionSignal> signals,
        DateTimeOffset asOf, ChampionRankingParameters? parameters = null)
    {
        var p = parameters ?? new ChampionRankingParameters();
        if (teamOf.Length != memberCount) throw new ArgumentException("teamOf must have one entry per member.", nameof(teamOf));
        var from = asOf - p.Window;
        var edges = new List<WeightedEdge>(signals.Count);
        var endorsements = new double[memberCount];
        var used = 0;
        foreach (var s in signals)
        {
            if (s.OccurredAt < from || s.OccurredAt > asOf || s.Target is not int target || target == s.Actor) continue;
            var w = RecencyDecay.Weight(s.Weight ?? p.KindWeights.GetValueOrDefault(s.Kind, 1), s.OccurredAt, asOf, p.HalfLife);
            if (!(w > 0)) continue;
            edges.Add(new WeightedEdge(s.Actor, target, w));
            if (s.Kind == SignalKind.Endorsement) endorsements[target] += w;
            used++;
        }
        var g = InteractionGraph.FromEdges(memberCount, edges);
        var ties = g.Symmetrized();

        var pr = PageRank.Compute(g, p.Damping, p.PageRankTolerance, maxIterations: 500);
        var btw = Betweenness.Compute(ties, weighted: true, p.ExactBetweennessNodeLimit, p.BetweennessSampleSources);
        var teamCount = teamOf.Length == 0 ? 0 : Math.Max(0, teamOf.Max() + 1);
        var participation = Participation.Compute(ties, teamOf, teamCount);
        var mostConstraining = new int[memberCount];
        var constraint = BurtConstraint.ComputeWithLocal(ties, mostConstraining);

        var prMax = Max(pr.Scores); var endMax = Max(endorsements); var btwMax = Max(btw.Scores);
        var champions = new List<RankedMember>();
        var connectors = new List<RankedMember>();
        var championScores = new double[memberCount];
        var connectorScores = new double[memberCount];
        for (var i = 0; i < memberCount; i++)
        {
            championScores[i] = p.ChampionPageRankWeight * Ratio(pr.Scores[i], prMax) + p.ChampionEndorsementWeight * Ratio(endorsements[i], endMax);
            var hasTies = ties.OutOffsets[i + 1] > ties.OutOffsets[i];
            connectorScores[i] = !hasTies ? 0 :
                p.ConnectorBetweennessWeight * Ratio(btw.Scores[i], btwMax)
                + p.ConnectorParticipationWeight * participation[i]
                + p.ConnectorLowConstraintWeight * (1 - Math.Clamp(constraint[i], 0, 1));
        }
        // Ranked order: score descending, member index as a stable tie-break.
        var championOrder = Enumerable.Range(0, memberCount).OrderByDescending(i => championScores[i]).ThenBy(i => i).ToArray();
        var connectorOrder = Enumerable.Range(0, memberCount).OrderByDescending(i => connectorScores[i]).ThenBy(i => i).ToArray();
        for (var r = 0; r < championOrder.Length; r++)
        {
            var i = championOrder[r];
            List<RankingReason> why = r >= p.ExplainTop ? [] : PageRank.TopContributors(g, pr.Scores, i, p.WhyLimit, p.Damping)
                .Select(c => new RankingReason(c.Node, "interactions from", pr.Scores[i] > 0 ? c.Contribution / pr.Scores[i] : 0)).ToList();
            champions.Add(new RankedMember(i, r + 1, championScores[i], new Dictionary<string, double>
            {
                ["pagerank"] = pr.Scores[i], ["endorsements"] = endorsements[i],
            }, why));
        }
        for (var r = 0; r < connectorOrder.Length; r++)
        {
            var i = connectorOrder[r];
            connectors.Add(new RankedMember(i, r + 1, connectorScores[i], new Dictionary<string, double>
            {
                ["betweenness"] = btw.Scores[i], ["participation"] = participation[i],
                ["constraint"] = double.IsNaN(constraint[i]) ? 1 : constraint[i],
            }, r >= p.ExplainTop ? [] : ConnectorWhy(ties, teamOf, i, mostConstraining[i], p.WhyLimit)));
        }
        return new ChampionRankingResult(champions, connectors, btw.Exact, btw.ErrorBound95, pr.Iterations, memberCount, ties.EdgeCount / 2, used);
    }

    /// <summary>Strongest ties into other teams (what makes a bridge), then the tie that constrains most.</summary>
    private static List<RankingReason> ConnectorWhy(InteractionGraph ties, int[] teamOf, int i, int mostConstraining, int limit)
    {
        var strength = ties.OutStrength[i];
        var why = new List<RankingReason>();
        if (strength <= 0) return why;
        var cross = new List<(int Node, double W)>();
        for (var e = ties.OutOffsets[i]; e < ties.OutOffsets[i + 1]; e++)
        {
            var j = ties.OutTargets[e];
            if (teamOf[j] != teamOf[i]) cross.Add((j, ties.OutWeights[e]));
        }
        foreach (var (node, w) in cross.OrderByDescending(c => c.W).ThenBy(c => c.Node).Take(limit))
            why.Add(new RankingReason(node, "cross-team tie", w / strength));
        if (mostConstraining >= 0 && why.Count < limit + 1)
            why.Add(new RankingReason(mostConstraining, "most constraining tie", ties.WeightOf(i, mostConstraining) / strength));
        return why;
    }

    private static double Max(double[] a) { var m = 0.0; foreach (var x in a) if (x > m) m = x; return m; }
    private static double Ratio(double x, double max) => max > 0 ? x / max : 0;
}
