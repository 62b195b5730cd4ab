using System.Text.RegularExpressions;

namespace Platform.Core.Community.Algorithms;

/// <summary>
/// Lexicon sentiment scorer with negation, intensifiers, "but" shifts and capitalisation emphasis.
/// The lexicon below was written for this project (valences −4..+4 chosen by hand); it is not a
/// copy of VADER or AFINN. The compound normalisation x/√(x²+15) and the ±0.05 thresholds follow
/// the method described by Hutto &amp; Gilbert (ICWSM 2014); the code is our own.
/// </summary>
public static partial class SentimentScorer
{
    public const string Version = "sentiment-lexicon/1";
    public const double PositiveThreshold = 0.05;
    public const double NegativeThreshold = -0.05;
    /// <summary>A negated word keeps part of its strength with the opposite sign ("not great" ≠ "terrible").</summary>
    public const double NegationFactor = -0.7;
    private const int NegationWindow = 3;

    public sealed record Result(double Compound, string Label, IReadOnlyList<(string Term, double Valence)> Terms);

    private const string LexiconText = """
        good:1.9 great:3.1 excellent:3.3 amazing:3.1 awesome:3.0 fantastic:3.2 wonderful:3.1 brilliant:3.0 superb:3.1
        nice:1.8 fine:0.8 ok:0.8 okay:0.8 decent:1.2 solid:1.3 helpful:1.9 useful:1.6 valuable:1.9 clear:1.2 smooth:1.4
        happy:2.7 glad:2.0 pleased:2.0 delighted:3.0 excited:2.2 thrilled:3.0 proud:2.2 grateful:2.4 thankful:2.2 thanks:1.7
        thank:1.6 appreciate:2.0 appreciated:2.0 love:3.0 loved:3.0 loving:2.6 like:1.2 liked:1.4 enjoy:2.0 enjoyed:2.1 fun:2.2
        welcome:1.8 welcomed:2.0 welcoming:2.1 friendly:2.1 kind:1.9 supportive:2.2 support:1.4 supported:1.8 respect:1.8
        respected:2.0 trust:1.8 trusted:1.9 safe:1.7 calm:1.5 relaxed:1.7 comfortable:1.7 confident:2.0 inspired:2.3 inspiring:2.4
        motivated:1.9 motivating:1.9 energised:2.0 energized:2.0 engaged:1.3 productive:1.8 efficient:1.6 effective:1.7 progress:1.5
        improve:1.4 improved:1.8 improving:1.6 improvement:1.6 better:1.6 best:2.8 win:2.4 won:2.4 success:2.5 successful:2.5
        achieve:1.8 achieved:2.0 accomplished:2.2 celebrate:2.5 celebrated:2.4 congrats:2.6 congratulations:2.7 kudos:2.4
        cool:1.5 easy:1.5 easier:1.4 fair:1.2 honest:1.7 open:0.8 transparent:1.3 collaborative:1.8 together:0.8
        recognised:1.8 recognized:1.8 recognition:1.6 praise:2.2 praised:2.2 impressive:2.4 impressed:2.3 perfect:3.0 lovely:2.7
        positive:2.0 optimistic:2.0 hopeful:1.8 hope:1.3 heard:0.8 included:1.7 inclusive:1.8 belong:1.7 valued:2.0 empowered:2.2
        learn:1.0 learned:1.3 learning:1.0 growth:1.4 grow:1.2 flexible:1.3 reliable:1.8 innovative:1.9 creative:1.8 clever:1.8
        smart:1.7 wise:1.6 fast:0.9 quick:0.9 quickly:0.7 resolved:1.6 fixed:1.3 solved:1.7 clarity:1.4 balance:1.0 rested:1.5
        bad:-2.5 terrible:-3.2 awful:-3.1 horrible:-3.2 poor:-2.1 worse:-2.2 worst:-3.1 sad:-2.1 unhappy:-2.3 upset:-2.2
        angry:-2.6 annoyed:-2.0 annoying:-2.1 frustrated:-2.3 frustrating:-2.3 frustration:-2.2 disappointed:-2.3 disappointing:-2.3
        hate:-3.0 hated:-3.0 dislike:-1.9 boring:-1.6 bored:-1.5 confused:-1.4 confusing:-1.6 unclear:-1.3 messy:-1.5 chaotic:-2.0
        chaos:-2.0 stress:-1.9 stressed:-2.2 stressful:-2.2 anxious:-2.1 anxiety:-2.2 worried:-1.9 worry:-1.6 afraid:-2.0 scared:-2.2
        fear:-2.2 nervous:-1.5 overwhelmed:-2.2 overloaded:-2.0 exhausted:-2.4 tired:-1.6 burnout:-2.8 burned:-1.6 burnt:-1.7
        lonely:-2.2 alone:-1.3 isolated:-2.1 ignored:-2.2 excluded:-2.4 unwelcome:-2.3 disrespected:-2.6 disrespectful:-2.5 rude:-2.5
        toxic:-3.0 hostile:-2.8 unfair:-2.2 unsafe:-2.5 blame:-2.0 blamed:-2.3 blaming:-2.2 punished:-2.4 humiliated:-3.0
        embarrassed:-1.8 criticised:-1.7 criticized:-1.7 attacked:-2.6 undermined:-2.4 undermine:-2.2 problem:-1.3 problems:-1.4
        issue:-1.0 issues:-1.1 bug:-1.2 bugs:-1.3 broken:-2.0 fail:-2.2 failed:-2.3 failure:-2.4 failing:-2.2 mistake:-1.5
        mistakes:-1.5 wrong:-1.8 error:-1.4 errors:-1.5 slow:-1.3 late:-1.1 delay:-1.3 delayed:-1.4 blocked:-1.6 blocker:-1.5
        stuck:-1.7 difficult:-1.5 hard:-1.0 harder:-1.2 struggle:-1.8 struggling:-2.0 painful:-2.3 pain:-2.1 hurt:-2.3 useless:-2.4
        pointless:-2.2 waste:-2.1 wasted:-2.2 mess:-1.8 crisis:-2.6 concern:-1.2 concerned:-1.4 concerns:-1.2 doubt:-1.4 risk:-1.0
        risky:-1.4 lost:-1.6 lose:-1.5 losing:-1.6 quit:-1.8 quitting:-1.9 leave:-0.6 leaving:-0.8 sick:-1.8 ill:-1.6 cry:-2.1
        crying:-2.2 depressed:-2.8 miserable:-3.0 hopeless:-2.9 helpless:-2.4 demotivated:-2.3 unmotivated:-1.9 unheard:-2.0 unsupported:-2.2
        micromanaged:-2.1 overworked:-2.3 underpaid:-2.0 unappreciated:-2.4 conflict:-1.8 tension:-1.6 tense:-1.6 argue:-1.6 argument:-1.7
        cheerful:2.3 joy:2.8 joyful:2.8 peaceful:1.9 encouraging:2.1 encouraged:2.0 thoughtful:1.8 generous:2.0 patient:1.5
        reassured:1.7 relieved:1.6 satisfied:1.9 rewarding:2.2 fulfilling:2.2 meaningful:1.9 seamless:1.8 insightful:2.0
        outstanding:3.1 remarkable:2.5 stellar:2.9 phenomenal:3.1 energising:2.0 uplifting:2.4 heartwarming:2.5 smoothly:1.3
        dreadful:-3.0 unbearable:-3.0 nightmare:-2.9 disaster:-3.0 disastrous:-3.0 tedious:-1.7 draining:-2.0 drained:-2.1
        neglected:-2.2 dismissed:-2.0 belittled:-2.6 bullied:-3.0 harassed:-3.1 pressured:-1.8 rushed:-1.3 overlooked:-1.8
        insecure:-1.8 resentful:-2.3 bitter:-2.0 cynical:-1.8 gloomy:-2.0 
        complain:-1.6 complaint:-1.7 complaints:-1.7 sorry:-0.6 unfortunately:-1.3 sadly:-1.6 cancelled:-1.2 canceled:-1.2 missing:-1.1
        """;

    private static readonly Dictionary<string, double> Lexicon = ParseLexicon(LexiconText);

    private static readonly HashSet<string> Negators = new(StringComparer.Ordinal)
    {
        "not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "nowhere", "without", "hardly", "barely",
        "isn't", "aren't", "wasn't", "weren't", "don't", "doesn't", "didn't", "can't", "cannot", "couldn't", "won't",
        "wouldn't", "shouldn't", "haven't", "hasn't", "hadn't", "ain't", "isnt", "dont", "doesnt", "didnt", "cant", "wont",
    };

    /// <summary>Multipliers for the next sentiment word: boosters above 1, dampeners below.</summary>
    private static readonly Dictionary<string, double> Intensifiers = new(StringComparer.Ordinal)
    {
        ["very"] = 1.3, ["really"] = 1.3, ["so"] = 1.25, ["extremely"] = 1.5, ["incredibly"] = 1.5, ["super"] = 1.35,
        ["totally"] = 1.3, ["completely"] = 1.35, ["absolutely"] = 1.4, ["truly"] = 1.3, ["highly"] = 1.3, ["deeply"] = 1.3,
        ["especially"] = 1.2, ["too"] = 1.2, ["most"] = 1.2, ["more"] = 1.1,
        ["slightly"] = 0.6, ["somewhat"] = 0.7, ["a_bit"] = 0.7, ["kind_of"] = 0.7, ["kinda"] = 0.7, ["sort_of"] = 0.7,
        ["fairly"] = 0.8, ["rather"] = 0.85, ["quite"] = 1.1, ["barely"] = 0.5, ["marginally"] = 0.6, ["little"] = 0.7,
    };

    public static Result Score(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var raw = TokenRegex().Matches(text).Select(m => m.Value).ToList();
        var tokens = JoinPhrases(raw.Select(t => t.ToLowerInvariant()).ToList());
        var caps = JoinPhrases(raw).Select(t => t.Length > 1 && t.Any(char.IsLetter) && t.Where(char.IsLetter).All(char.IsUpper)).ToList();
        var anyLower = raw.Any(t => t.Any(char.IsLower));
        var butAt = tokens.IndexOf("but");
        var terms = new List<(string, double)>();
        var sum = 0.0;
        for (var i = 0; i < tokens.Count; i++)
        {
            if (!Lexicon.TryGetValue(tokens[i], out var v)) continue;
            // "like" as a preposition ("feels like Monday") carries no sentiment.
            if (tokens[i] == "like" && i > 0 && tokens[i - 1] is "feels" or "feel" or "felt" or "looks" or "look" or "seems" or "just") continue;
            if (i > 0 && Intensifiers.TryGetValue(tokens[i - 1], out var k1)) v *= k1;
            else if (i > 1 && Intensifiers.TryGetValue(tokens[i - 2], out var k2) && !Lexicon.ContainsKey(tokens[i - 1])) v *= k2;
            if (caps[i] && anyLower) v *= 1.2; // shouting one word in otherwise normal text emphasises it
            for (var j = Math.Max(0, i - NegationWindow); j < i; j++)
                if (Negators.Contains(tokens[j]) || tokens[j].EndsWith("n't", StringComparison.Ordinal)) { v *= NegationFactor; break; }
            // The clause after "but" carries the speaker's verdict.
            if (butAt >= 0) v *= i < butAt ? 0.5 : i > butAt ? 1.5 : 1;
            terms.Add((tokens[i], v));
            sum += v;
        }
        var exclaim = Math.Min(text.Count(c => c == '!'), 4) * 0.29;
        if (sum > 0) sum += exclaim; else if (sum < 0) sum -= exclaim;
        var compound = sum / Math.Sqrt(sum * sum + 15);
        var label = compound >= PositiveThreshold ? "positive" : compound <= NegativeThreshold ? "negative" : "neutral";
        return new Result(Math.Round(compound, 4), label, terms);
    }

    /// <summary>Two-word intensifiers become one token so they can modify the next word.</summary>
    private static List<string> JoinPhrases(List<string> t)
    {
        var result = new List<string>(t.Count);
        for (var i = 0; i < t.Count; i++)
        {
            if (i + 1 < t.Count)
            {
                var pair = t[i].ToLowerInvariant() + "_" + t[i + 1].ToLowerInvariant();
                if (pair is "a_bit" or "kind_of" or "sort_of") { result.Add(pair); i++; continue; }
            }
            result.Add(t[i]);
        }
        return result;
    }

    private static Dictionary<string, double> ParseLexicon(string text)
    {
        var d = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var entry in text.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = entry.LastIndexOf(':');
            d[entry[..colon]] = double.Parse(entry[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        }
        return d;
    }

    public static int LexiconSize => Lexicon.Count;

    [GeneratedRegex(@"[A-Za-z]+(?:'[A-Za-z]+)?")]
    private static partial Regex TokenRegex();
}

/// <summary>
/// Edmondson (1999) 7-item team psychological safety scale on a 1–7 agreement scale.
/// Items 1, 3 and 5 are negatively worded and reverse-scored (8 − x); a person's score is the
/// mean of the 7 items, a team's the mean of its respondents, reported only at n ≥ the k-anonymity floor.
/// </summary>
public static class PsychologicalSafety
{
    public const string Version = "edmondson-7/1";
    public const int ItemCount = 7;
    private static readonly bool[] Reversed = [true, false, true, false, true, false, false];

    public static bool IsReverseScored(int itemNumber) => Reversed[itemNumber - 1];

    public static double ScoreRespondent(IReadOnlyList<int> answers)
    {
        if (answers.Count != ItemCount) throw new ArgumentException($"Expected {ItemCount} answers.", nameof(answers));
        var sum = 0.0;
        for (var i = 0; i < ItemCount; i++)
        {
            var a = answers[i];
            if (a is < 1 or > 7) throw new ArgumentOutOfRangeException(nameof(answers), $"Item {i + 1} answer {a} outside 1..7.");
            sum += Reversed[i] ? 8 - a : a;
        }
        return sum / ItemCount;
    }

    public sealed record TeamResult(int Respondents, bool Reportable, double? Mean, double? CronbachAlpha);

    public static TeamResult ScoreTeam(IReadOnlyList<IReadOnlyList<int>> responses, int floor = KAnonymity.DefaultFloor)
    {
        var n = responses.Count;
        if (!KAnonymity.IsReportable(n, floor)) return new TeamResult(n, false, null, null);
        var mean = responses.Average(ScoreRespondent);
        return new TeamResult(n, true, mean, CronbachAlpha(responses));
    }

    /// <summary>α = k/(k−1)·(1 − Σ item variances / variance of totals), on reverse-scored items; null if undefined.</summary>
    public static double? CronbachAlpha(IReadOnlyList<IReadOnlyList<int>> responses)
    {
        if (responses.Count < 2) return null;
        var scored = responses.Select(r => Enumerable.Range(0, ItemCount).Select(i => (double)(Reversed[i] ? 8 - r[i] : r[i])).ToArray()).ToList();
        var itemVar = Enumerable.Range(0, ItemCount).Sum(i => Variance(scored.Select(s => s[i])));
        var totalVar = Variance(scored.Select(s => s.Sum()));
        if (totalVar == 0) return null;
        return ItemCount / (ItemCount - 1.0) * (1 - itemVar / totalVar);
    }

    private static double Variance(IEnumerable<double> xs)
    {
        var a = xs.ToArray();
        var m = a.Average();
        return a.Sum(x => (x - m) * (x - m)) / (a.Length - 1);
    }
}
