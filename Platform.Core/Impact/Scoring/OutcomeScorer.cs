using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Platform.Core.Impact.Scoring;

public static class OutcomeDimensions
{
    public const string Confidence = "confidence";
    public const string Belonging = "belonging";
    public const string LangLevelProxy = "lang_level_proxy";
    public const string JobReadiness = "job_readiness";
    public const string WellBeing = "well_being";
    public static readonly IReadOnlyList<string> All = [Confidence, Belonging, LangLevelProxy, JobReadiness, WellBeing];
}

/// <summary>One sentence that moved a dimension, with the cues that matched and a SHA-256 of the snippet.</summary>
public sealed record OutcomeEvidence(string Dimension, string Sentence, int Start, int Length, IReadOnlyList<string> Cues, double Contribution, string Sha256);

/// <summary>Score 0.000–1.000 (0.5 = balanced evidence) or null when the text gives no evidence (abstain).</summary>
public sealed record DimensionScore(string Dimension, double? Score, double Confidence, IReadOnlyList<OutcomeEvidence> Evidence)
{
    public bool Abstained => Score is null;

    /// <summary>
    /// How the models that weigh evidence sentences combine them: no evidence → abstain (null); otherwise
    /// score = 0.5 + 0.5·tanh(2·Σ contributions) and confidence = (1 − e^(−2·Σ|c|))·(0.5 + 0.5·|Σc| / Σ|c|), both rounded to 3 decimals.
    /// </summary>
    public static DimensionScore FromEvidence(string dimension, IReadOnlyList<OutcomeEvidence> evidence)
    {
        if (evidence.Count == 0)
        {
            return new DimensionScore(dimension, null, 0, evidence);
        }
        var total = evidence.Sum(e => e.Contribution);
        var magnitude = evidence.Sum(e => Math.Abs(e.Contribution));
        var agreement = magnitude > 0 ? Math.Abs(total) / magnitude : 0;
        var confidence = (1 - Math.Exp(-2 * magnitude)) * (0.5 + 0.5 * agreement);
        return new DimensionScore(dimension, Math.Round(0.5 + 0.5 * Math.Tanh(2 * total), 3), Math.Round(confidence, 3), evidence);
    }
}

public sealed record OutcomeScore(string ModelVersion, IReadOnlyDictionary<string, DimensionScore> Dimensions);

/// <summary>
/// Explainable rubric/lexicon outcome scorer for feedback and check-in texts. Each dimension has a
/// hand-curated cue list (single words and phrases, weight −3..+3). Within a clause a cue is
/// flipped by a negator up to three tokens before it ("no longer afraid"), scaled by an intensifier
/// just before it ("much more confident") and raised by a change marker in the clause ("now",
/// "finally", "anymore"). A dimension's score is 0.5 + 0.5·tanh(Σ contributions / 2): evidence for
/// and against cancel, and with no matching cue the dimension abstains rather than guessing.
/// </summary>
public static partial class OutcomeScorer
{
    public const string ModelVersion = "outcome-rubric/1.0.0";
    public const double NegationFactor = -0.8;
    public const double ChangeMarkerFactor = 1.2;
    private const int NegationWindow = 3;

    /// <summary>Cue lists, "phrase:weight", phrases joined by '_'. Written for this project.</summary>
    private static readonly Dictionary<string, string> CueText = new()
    {
        [OutcomeDimensions.Confidence] = """
            confident:2 confidence:1.2 self-confidence:1.5 self-confident:2 believe_in_myself:2.2 believe_in_herself:2 believe_in_himself:2
            brave:1.6 braver:1.8 courage:1.6 courageous:1.6 dared:1.5 dare:1.2 proud:1.6 proud_of_myself:2.2 assertive:1.6
            speak_up:1.8 spoke_up:1.8 speaks_up:1.8 took_the_lead:1.8 take_the_lead:1.6 led_the:1.2 capable:1.6 empowered:1.8
            trust_myself:2 sure_of_myself:2 self-assured:2 independent:1.2 independently:1.2 on_my_own_now:1.5 comfortable_presenting:1.8
            presented:1.0 asked_questions:1.0 ask_questions:0.8 raised_her_hand:1.4 raised_my_hand:1.4 initiative:1.3 stood_up:1.4
            afraid:-1.6 scared:-1.6 shy:-1.5 shyer:-1.5 insecure:-1.8 doubt_myself:-2 doubts_herself:-1.8 doubts_himself:-1.8
            not_good_enough:-2.2 embarrassed:-1.5 ashamed:-1.8 lost_my_confidence:-2.5 lost_confidence:-2.3 freeze:-1.5 froze:-1.6
            freezes:-1.5 hesitant:-1.4 unsure_of_myself:-2 intimidated:-1.7 nervous:-1.3 timid:-1.5 too_shy:-1.8 avoid_speaking:-1.6
            stupid:-1.5 useless:-1.6 can't_do_it:-1.8 cannot_do_it:-1.8 insecurity:-1.8 self-doubt:-2 quiet_and_withdrawn:-1.6 withdrawn:-1.3
            """,
        [OutcomeDimensions.Belonging] = """
            welcomed:2 welcome:1.3 welcoming:1.8 part_of:1.6 belong:2 belonging:1.6 fit_in:1.8 fits_in:1.8 friends:1.5 friend:1.3
            friendship:1.6 friendships:1.6 made_friends:2.2 community:1.2 included:1.8 inclusive:1.4 accepted:1.6 connected:1.6
            feel_at_home:2.2 feels_at_home:2.2 at_home_here:2 like_family:2.2 our_group:1.2 my_group:1.2 together:0.8 invited:1.2
            neighbours:0.8 neighbors:0.8 social:0.8 buddy:0.9 network:0.8 colleagues_are_kind:1.6 people_are_kind:1.6 kind_people:1.5
            not_alone:1.8 someone_to_talk_to:1.8 support_network:1.6 bond:1.4 bonded:1.6 close_to:1.0 feel_seen:1.6 felt_seen:1.6
            lonely:-2 loneliness:-2 isolated:-2 isolation:-1.8 alone:-1.5 outsider:-2 excluded:-2 left_out:-2 ignored:-1.8
            no_friends:-2.2 don't_fit:-2 doesn't_fit:-1.8 unwelcome:-2 nobody_talks:-2 no_one_talks:-2 on_my_own:-1.2 homesick:-1.6
            don't_know_anyone:-1.8 doesn't_know_anyone:-1.8 stranger:-1.4 strangers:-1.2 discriminated:-2.2 discrimination:-2 invisible:-1.6
            """,
        [OutcomeDimensions.LangLevelProxy] = """
            fluent:2 fluently:2 fluency:1.6 vocabulary:1.0 new_words:1.2 pronunciation:0.6 grammar:0.5 express_myself:1.6
            express_herself:1.5 express_himself:1.5 without_translating:2 without_a_dictionary:2 without_google_translate:2.2
            without_an_interpreter:2 follow_the_conversation:1.6 follow_conversations:1.6 understand_everything:2 understand_most:1.6
            understood:1.0 understand:1.0 understands:1.0 speak_norwegian:1.2 speak_english:1.2 speaks_norwegian:1.2 speaks_english:1.2
            in_norwegian:0.8 in_english:0.8 in_german:0.8 passed_the_b1:2.2 passed_b1:2.2 passed_b2:2.4 passed_a2:1.8 b1_level:1.4
            b2_level:1.6 a2_level:0.8 reading:0.5 small_talk:1.2 phone_call:1.0 read_the_letter:1.2 sentences:0.6 speaking_english:1.2 speaking_norwegian:1.2
            language_barrier:-2.2 misunderstand:-1.5 misunderstood:-1.4 misunderstanding:-1.4 hard_to_follow:-1.8 too_fast:-1.2
            forget_words:-1.6 forgot_the_words:-1.6 can't_find_the_words:-2 cannot_find_the_words:-2 need_a_translator:-2
            needs_a_translator:-2 needed_an_interpreter:-1.8 struggle_with_the_language:-2.2 struggles_with_the_language:-2.2
            translator:-1.0 interpreter:-1.0 google_translate:-1.2 basic_words:-1.2 a_few_words:-1.8 mixes_up:-1.0 mix_up:-1.0
            """,
        [OutcomeDimensions.JobReadiness] = """
            cv:1.3 resume:1.3 interview:1.5 interviews:1.5 job_interview:1.8 applied:1.4 application:1.1 applications:1.2
            job_offer:2.5 hired:2.5 employer:1.0 employers:1.0 linkedin:1.2 cover_letter:1.5 internship:1.8 work_placement:1.8
            certificate:1.4 certification:1.4 certified:1.5 ready_to_work:2 ready_for_work:2 job-ready:2 recruiter:1.2 got_a_job:2.8
            got_the_job:2.8 new_job:2.2 first_job:2 job_search:1.0 portfolio:1.2 career:1.0 mock_interview:1.6 trial_day:1.6 shift:1.0
            shifts:1.0 contract:1.3 signed_a_contract:2.4 job_fair:1.2 references:0.8 qualification:1.0 work_experience:1.0 callback:1.6
            unemployed:-1.6 rejected:-1.6 rejection:-1.6 rejections:-1.8 no_job:-1.8 no_response:-1.4 no_callbacks:-1.8 not_ready:-1.8
            no_experience:-1.6 gap_in_my_cv:-1.4 lost_my_job:-2.2 lost_her_job:-2 lost_his_job:-2 no_interviews:-2 laid_off:-2
            unqualified:-1.8 don't_know_how_to_apply:-2 doesn't_know_how_to_apply:-2 dead_end:-1.6 gave_up_applying:-2.4 stopped_applying:-2.2
            """,
        [OutcomeDimensions.WellBeing] = """
            calm:1.6 calmer:1.8 happy:1.8 happier:2 rested:1.6 relaxed:1.6 sleep_better:2 sleeping_better:2 slept_well:1.8 energy:1.0
            energetic:1.6 hopeful:1.8 hope:1.0 optimistic:1.8 peaceful:1.6 feel_good:1.6 feeling_good:1.6 feel_better:1.8 feeling_better:1.8
            felt_better:1.8 healthy:1.3 good_mood:1.8 smile:1.2 smiling:1.4 laugh:1.2 laughed:1.3 laughing:1.3 joy:1.8 grateful:1.4
            relieved:1.6 balanced:1.2 less_stressed:2 lighter:1.2 enjoy:1.0 enjoying:1.2 enjoyed:1.0 motivated:1.2
            stress:-1.6 stressed:-1.8 stressful:-1.6 anxious:-1.8 anxiety:-1.8 depressed:-2.4 depression:-2.2 sad:-1.6 tired:-1.2
            exhausted:-1.8 can't_sleep:-2 cannot_sleep:-2 trouble_sleeping:-2 insomnia:-2 sleepless:-1.8 overwhelmed:-1.8 worried:-1.5
            worry:-1.3 worrying:-1.4 panic:-2 hopeless:-2.4 bad_day:-1.2 low_mood:-2 crying:-1.8 cried:-1.8 cry:-1.5 sick:-1.2 ill:-1.2
            pain:-1.2 burnout:-2.2 burned_out:-2.2 burnt_out:-2.2 frustrated:-1.3 frustrating:-1.2 down:-0.8 miserable:-2.4 drained:-1.6
            """,
    };

    private sealed record Cue(string[] Tokens, double Weight, string Text);

    private static readonly Dictionary<string, Dictionary<string, List<Cue>>> CuesByFirstToken = BuildCues();

    private static readonly HashSet<string> Negators = new(StringComparer.Ordinal)
    {
        "not", "no", "never", "without", "hardly", "barely", "nobody", "none", "nothing", "neither", "nor",
        "isn't", "aren't", "wasn't", "weren't", "don't", "doesn't", "didn't", "can't", "cannot", "couldn't", "won't",
        "wouldn't", "haven't", "hasn't", "hadn't", "ain't",
    };

    private static readonly Dictionary<string, double> Intensifiers = new(StringComparer.Ordinal)
    {
        ["very"] = 1.3, ["really"] = 1.3, ["so"] = 1.25, ["much"] = 1.3, ["extremely"] = 1.5, ["incredibly"] = 1.5,
        ["truly"] = 1.3, ["totally"] = 1.3, ["completely"] = 1.35, ["deeply"] = 1.3, ["more"] = 1.2, ["most"] = 1.2, ["lot"] = 1.2,
        ["bit"] = 0.7, ["slightly"] = 0.6, ["somewhat"] = 0.7, ["little"] = 0.7, ["sometimes"] = 0.8, ["occasionally"] = 0.7,
    };

    private static readonly HashSet<string> ChangeMarkers = new(StringComparer.Ordinal)
    {
        "now", "finally", "anymore", "longer", "since", "improved", "improving", "better", "growing", "grown", "first",
    };

    public static OutcomeScore Score(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var evidence = OutcomeDimensions.All.ToDictionary(d => d, _ => new List<OutcomeEvidence>());
        foreach (var (start, length) in Sentences(text))
        {
            var sentence = text.Substring(start, length);
            var perDim = new Dictionary<string, (double Sum, List<string> Cues)>();
            foreach (var clause in Clauses(sentence))
            {
                var tokens = clause;
                var hasChange = tokens.Any(ChangeMarkers.Contains);
                var i = 0;
                while (i < tokens.Count)
                {
                    var matchedLen = 0;
                    if (CuesByFirstToken.TryGetValue(tokens[i], out var byDim))
                    {
                        foreach (var (dim, cues) in byDim)
                        {
                            // Longest phrase first: "lost my confidence" beats "confidence".
                            var cue = cues.FirstOrDefault(c => Matches(tokens, i, c.Tokens));
                            if (cue is null) continue;
                            var w = cue.Weight * Modifier(tokens, i, cue);
                            if (hasChange && w > 0) w *= ChangeMarkerFactor;
                            var acc = perDim.TryGetValue(dim, out var a) ? a : (0, new List<string>());
                            acc.Cues.Add(cue.Text);
                            perDim[dim] = (acc.Sum + w, acc.Cues);
                            matchedLen = Math.Max(matchedLen, cue.Tokens.Length);
                        }
                    }
                    i += Math.Max(1, matchedLen);
                }
            }
            foreach (var (dim, (sum, cues)) in perDim)
                evidence[dim].Add(new OutcomeEvidence(dim, sentence, start, length, cues, Math.Round(sum, 4), Sha256Hex(sentence)));
        }
        var result = new Dictionary<string, DimensionScore>();
        foreach (var dim in OutcomeDimensions.All)
        {
            var ev = evidence[dim];
            if (ev.Count == 0) { result[dim] = new DimensionScore(dim, null, 0, ev); continue; }
            var total = ev.Sum(e => e.Contribution);
            var magnitude = ev.Sum(e => Math.Abs(e.Contribution));
            // Confidence grows with the amount of evidence and shrinks when sentences disagree.
            var agreement = magnitude > 0 ? Math.Abs(total) / magnitude : 0;
            var confidence = (1 - Math.Exp(-magnitude / 2)) * (0.5 + 0.5 * agreement);
            result[dim] = new DimensionScore(dim, Math.Round(0.5 + 0.5 * Math.Tanh(total / 2), 3), Math.Round(confidence, 3), ev);
        }
        return new OutcomeScore(ModelVersion, result);
    }

    public static string Sha256Hex(string snippet) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(snippet)));

    private static double Modifier(List<string> tokens, int i, Cue cue)
    {
        var m = 1.0;
        if (i > 0 && Intensifiers.TryGetValue(tokens[i - 1], out var k)) m *= k;
        else if (i > 1 && Intensifiers.TryGetValue(tokens[i - 2], out var k2)) m *= k2;
        // A negator that is itself the cue's first word ("don't fit") is part of the cue, not a flip.
        if (Negators.Contains(cue.Tokens[0])) return m;
        for (var j = i - 1; j >= Math.Max(0, i - NegationWindow); j--)
        {
            // A negator belongs to the nearest cue: "not afraid to speak Norwegian" negates "afraid" only.
            if (!Negators.Contains(tokens[j])) { if (StartsCue(tokens, j)) break; continue; }
            // "never felt so welcome", "never been more confident": an emphatic, not a negation.
            if (tokens[j] == "never" && tokens.Skip(j + 1).Take(i - j - 1).Any(t => t is "so" or "more" or "this")) return m * 1.3;
            return m * NegationFactor;
        }
        return m;
    }

    private static bool StartsCue(List<string> tokens, int j) =>
        CuesByFirstToken.TryGetValue(tokens[j], out var byDim) && byDim.Values.Any(cues => cues.Any(c => Matches(tokens, j, c.Tokens)));

    private static bool Matches(List<string> tokens, int i, string[] phrase)
    {
        if (i + phrase.Length > tokens.Count) return false;
        for (var k = 0; k < phrase.Length; k++) if (tokens[i + k] != phrase[k]) return false;
        return true;
    }

    internal static IEnumerable<(int Start, int Length)> Sentences(string text)
    {
        foreach (Match m in SentenceRegex().Matches(text))
        {
            var s = m.Value.Trim();
            if (s.Length == 0) continue;
            yield return (m.Index + m.Value.IndexOf(s, StringComparison.Ordinal), s.Length);
        }
    }

    /// <summary>Clauses bound negation and change markers: "I was lonely, but now I have friends".</summary>
    private static IEnumerable<List<string>> Clauses(string sentence)
    {
        var current = new List<string>();
        foreach (Match m in TokenRegex().Matches(sentence.Replace('\u2019', '\'')))
        {
            var t = m.Value.ToLowerInvariant();
            if (t is "," or ";" or ":" or "but" or "although" or "though" or "however" or "while")
            {
                if (current.Count > 0) yield return current;
                current = [];
                continue;
            }
            current.Add(t);
        }
        if (current.Count > 0) yield return current;
    }

    private static Dictionary<string, Dictionary<string, List<Cue>>> BuildCues()
    {
        var index = new Dictionary<string, Dictionary<string, List<Cue>>>(StringComparer.Ordinal);
        foreach (var (dim, text) in CueText)
            foreach (var entry in text.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries))
            {
                var colon = entry.LastIndexOf(':');
                var phrase = entry[..colon];
                var cue = new Cue(phrase.Split('_'), double.Parse(entry[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture), phrase.Replace('_', ' '));
                if (!index.TryGetValue(cue.Tokens[0], out var byDim)) index[cue.Tokens[0]] = byDim = new();
                if (!byDim.TryGetValue(dim, out var list)) byDim[dim] = list = [];
                list.Add(cue);
                list.Sort((a, b) => b.Tokens.Length.CompareTo(a.Tokens.Length));
            }
        return index;
    }

    [GeneratedRegex(@"[^.!?\n]+[.!?]*")]
    private static partial Regex SentenceRegex();

    [GeneratedRegex(@"[A-Za-z0-9]+(?:['\-][A-Za-z0-9]+)*|[,;:]")]
    private static partial Regex TokenRegex();
}
