using System.Globalization;
using System.Text.RegularExpressions;

namespace Platform.Core.Civic;

/// <summary>The regular expressions the extractor classifies and reads sentences with.</summary>
public static partial class MinutesExtractor
{
    private const string Num = "(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\\d{1,2})";

    /// <summary>A word a PDF broke across lines: "ordi-\nnance".</summary>
    [GeneratedRegex(@"(?<=[a-z])-\n(?=[a-z])")]
    private static partial Regex SoftHyphen();

    [GeneratedRegex(@"[.!?:]$")]
    private static partial Regex TerminalPunctuation();

    [GeneratedRegex(@"[.!?](?=[""')\]]?\s+[""'(\[]?[A-Z0-9])")]
    private static partial Regex SentenceBreak();

    [GeneratedRegex(@"(?:\b(?:No|Nos|Mr|Ms|Mrs|Dr|St|Ave|Blvd|Rd|Inc|Co|Corp|Ltd|Jr|Sr|vs|v|etc|approx|Dept|Assn|Mt|Ft|Hon|Res|Ord|Cal|Gov|Sec|Art|Ch|Vol|U\.S)\.|\b[A-Z]\.|\b[ap]\.m\.)$")]
    private static partial Regex Abbreviation();

    [GeneratedRegex(@"^\s*(?:(?:Item|ITEM|Agenda Item)\s+)?((?:[A-Z]{1,3}-)?\d{1,2}(?:\.\d{1,2})?[A-Z]?)(?:[.):]|\s+[-–—])\s*[-–—]?\s*(\S.{1,150})$")]
    private static partial Regex NumberedHeading();

    [GeneratedRegex(@"^\s*(?:AYES?|YEAS?|NOES|NAYS?|NO|ABSTAIN(?:ED|ING|S)?|ABSTENTIONS?|ABSENT|RECUSED|PRESENT|MOTION|SECOND(?:ED)?|VOTE|ACTION|RESULT|FOR|AGAINST|Recorded vote|Roll call(?: vote)?|Motion|Second|Result|Action|Ayes?|Noes|Nays?|Abstain(?:ed)?|Absent|Present|Vote|Moved by|Seconded by)\b[^:\n]{0,40}:", RegexOptions.None)]
    private static partial Regex LabelLine();

    [GeneratedRegex(@"^(?:CARRIED|DEFEATED|LOST|FAILED|APPROVED|ADOPTED|MOTION CARRIED|MOTION FAILED|CARRIED UNANIMOUSLY)\.?$")]
    private static partial Regex OutcomeOnly();

    [GeneratedRegex(@"\b(?:moved|moves)\b|\bmotion\s+(?:by|of|made\s+by|was\s+made|from)\b|\bmade\s+(?:a|the)\s+motion\b|\bon\s+(?:a\s+)?motion\b|(?:^|\s)(?:SUBSTITUTE\s+)?MOTION\s*:|\bMotion\s*:|^\s*AMENDMENT\s*:|^Motion\s+to\s+\w+.*\b(?:by|made)\b|\bsubstitute\s+motion\b.*\bseconded\b|\boffered\s+a\s+substitute\b", RegexOptions.IgnoreCase)]
    private static partial Regex MotionCue();

    [GeneratedRegex(@"\b(?:was|were|been|be|is)\s+moved\s+(?!by\b)|\bmoved\s+(?:in)?to\s+(?:closed|open|executive)\s+session|\bmoved\s+(?:the\s+)?(?:item|agenda)|\bmoved\s+(?:here|away|from)\b", RegexOptions.IgnoreCase)]
    private static partial Regex NotAMotion();

    [GeneratedRegex(@"^\s*(?:the\s+)?(?:main\s+|original\s+|substitute\s+)?motion\s+to\s+\w+(?:\s+\w+){0,12}?\s+(?:carried|passed|failed|was)\b", RegexOptions.IgnoreCase)]
    private static partial Regex MotionToVoted();

    [GeneratedRegex(@"\bCARRIED\b|\bDEFEATED\b|\bcarried\b|\bvoted\s+(?:unanimously|" + Num + @"|to\b)|\bvote\s+(?:was|of)\b|\bvoice\s+vote\b|\ball\s+(?:in\s+favor|ayes)\b|\bunanimous\s+consent\b|\bwithout\s+objection\b|\bno\s+objection\b|\bdied\s+for\s+(?:lack|want)\s+of\s+a\s+second\b|\bwithdr(?:ew|awn)\b[^.]*\bmotion\b|\bmotion\b[^.]*\bwithdrawn\b|\b(?:motion|amendment|resolution|ordinance)\b[^.]{0,60}\b(?:passed|failed|prevailed|was\s+adopted|was\s+approved|was\s+defeated|was\s+lost)\b|\bdeclared\b[^.]*\b(?:continued|adopted|approved|carried|tabled)\b|\b" + Num + @"\s+in\s+favor\b", RegexOptions.IgnoreCase)]
    private static partial Regex StrongVote();

    [GeneratedRegex(@"^\s*(?:(?:ROLL\s+CALL\s+)?VOTE\b[^:]{0,30}|Result|RESULT|ACTION|Action|Disposition|DISPOSITION|Recorded vote|Roll call(?: vote)?|ROLL CALL VOTE)\s*:\s*(?!Present)(?:Approved|Adopted|Denied|Failed|Carried|Continued|Referred|Tabled|Postponed|Defeated|Withdrawn|Appeal|Motion|Ayes?|Unanimous|[A-Z][a-z]+\s+(?:aye|yes|nay|no)\b|\d|For\b|" + Num + @")", RegexOptions.IgnoreCase)]
    private static partial Regex VoteLabel();

    [GeneratedRegex(@"\b(?:passed|failed|prevailed|approved|adopted)\b", RegexOptions.IgnoreCase)]
    private static partial Regex WeakOutcome();

    [GeneratedRegex(@"\b(?:motion|amendment|vote|unanimous(?:ly)?|roll\s+call|it|item)\b", RegexOptions.IgnoreCase)]
    private static partial Regex VoteContext();

    [GeneratedRegex(@"\b(?:adopted|approved|denied|tabled|continued|referred|postponed|appointed|accepted|awarded|authorized|introduced|rejected|upheld)\b", RegexOptions.IgnoreCase)]
    private static partial Regex PastDecision();

    [GeneratedRegex(@"\bon\s+(?:a\s+)?motion\b|\bmotion\s+(?:by|of)\b|\bunanimous(?:ly)?\b|\bby\s+consent\b|\bthe\s+following\s+vote\b|\bupon\s+roll\s+call\b|\bwithout\s+objection\b", RegexOptions.IgnoreCase)]
    private static partial Regex DecisionContext();

    [GeneratedRegex(@"\bwho\s+voted\b|\bvoted\s+on\s+the\s+prevailing\s+side\b")]
    private static partial Regex VotedOnPrevailing();

    [GeneratedRegex(@"^\s*(?:AYES?|YEAS?|NOES|NAYS?|ABSTAIN(?:ED|S)?|ABSTENTIONS?|ABSENT|RECUSED|Ayes?|Yeas?|Noes|Nays?|Abstain(?:ed|s)?|Absent|Recused|For|Against|Roll\s+call(?:\s+vote)?)\s*:", RegexOptions.None)]
    private static partial Regex DetailLine();

    [GeneratedRegex(@"^\s*(?:AYES?|YEAS?|Ayes?|Yeas?|For|Roll\s+call(?:\s+vote)?\s*:\s*(?!Present)\S)|^[A-Z][\w.' -]{1,40}\s\|\s*(?:Aye|Yes|Yea|Nay|No|Abstain)", RegexOptions.None)]
    private static partial Regex StartsVoteDetail();

    [GeneratedRegex(@"^[A-Z][\w.' -]{1,40}\s\|\s*(?:Aye|Yes|Yea|Nay|No|Abstain(?:ed)?|Absent|Recused)\s*\|?$", RegexOptions.IgnoreCase)]
    private static partial Regex TableVoteRow();

    [GeneratedRegex(@"^\s*(?:Recommended\s+)?(?:Action|Recommendation|Requested\s+action)\s*:\s*(?!(?:Approved|Adopted|Denied|Failed|Carried|Continued|Referred|Tabled|Postponed|Withdrawn)\b)[A-Z][a-z]+\b(?<!ed)", RegexOptions.IgnoreCase)]
    private static partial Regex ActionImperative();

    [GeneratedRegex(@"^\s*(?:Recommended\s+)?(?:Action|Recommendation|Requested\s+action|Result)\s*:\s*", RegexOptions.IgnoreCase)]
    private static partial Regex ActionLabel();

    [GeneratedRegex(@"\bsubstitute\b", RegexOptions.IgnoreCase)]
    private static partial Regex Substitute();

    [GeneratedRegex(@"\breconsider(?:ation)?\b", RegexOptions.IgnoreCase)]
    private static partial Regex Reconsider();

    [GeneratedRegex(@"\b(?:moved|motion)\s+to\s+amend\b|\bmoved\s+an\s+amendment\b|\bAMENDMENT\s*:", RegexOptions.IgnoreCase)]
    private static partial Regex AmendMotion();

    [GeneratedRegex(@"\b(?:main|original|underlying)\s+motion\b|\bas\s+amended\b", RegexOptions.IgnoreCase)]
    private static partial Regex MainMotion();

    [GeneratedRegex(@"\bamendment\b", RegexOptions.IgnoreCase)]
    private static partial Regex AmendmentWord();

    [GeneratedRegex(@"\bmotion\s+to\s+table\b", RegexOptions.IgnoreCase)]
    private static partial Regex TableWord();

    [GeneratedRegex(@"^\s*(?:and\s+)?(?:seconded|second(?:ed)?\s+by)\b|^\s*Seconded\s+by\b", RegexOptions.IgnoreCase)]
    private static partial Regex SecondedOnly();

    [GeneratedRegex(@"\bTHAT\s+(?:(?:the|The)\s+)?(?:[A-Z][\w'-]*\s+(?:of\s+|and\s+)?)*([a-z].+)$")]
    private static partial Regex ThatClause();

    [GeneratedRegex(@"\bthe\s+(?:[A-Z][\w]*\s+){0,3}?(?:Council|Board|Commission|Agency|Trustees|Supervisors|Aldermen|Committee|Authority)\s+(adopted|approved|authorized|awarded|accepted|denied|introduced|appointed|continued|referred|tabled|postponed|upheld|directed|ratified|received)\s+(.+)$")]
    private static partial Regex BodyDid();

    [GeneratedRegex(@"\bseconded\s+(?:the\s+)?approval\s+of\s+(.+)$", RegexOptions.IgnoreCase)]
    private static partial Regex ApprovalOf();

    [GeneratedRegex(@"(?:\b(?:moved|moves|motion|voted(?:\s+\S+){0,3}?|made\s+a\s+motion|offered\s+a\s+substitute\s+motion|second(?:ed)?(?:\s+by\s+(?:[A-Z][\w'.-]*\s*){1,4})?)\b[^;]*?|^\s*)\b(to\s+(?!the\s+dais)[a-z].+)$", RegexOptions.None)]
    private static partial Regex ToClause();

    [GeneratedRegex(@"(?:;|,\s*(?:and\s+)?(?:seconded|second(?:ed)?\s+by|Councilmember|Council Member|Trustee|Supervisor|Commissioner)\b|\.\s+(?:Second|Seconded|The|Motion)\b|\s+(?:made|by)\s+(?:Trustee|Councilmember|Councilor|Commissioner|Supervisor|Alderman|Council\s+Member)\b|,\s+on\s+a\s+motion\b|\s+-\s+Motion:).*$", RegexOptions.Singleline)]
    private static partial Regex ObjectEnd();

    [GeneratedRegex(@"\bits\s+adoption\b|\bmoved\s+(?:for\s+)?adoption\s+of\s+the\s+(?:resolution|ordinance)\b", RegexOptions.IgnoreCase)]
    private static partial Regex ItsAdoption();

    [GeneratedRegex(@"^((?:A|AN)\s+(?:RESOLUTION|ORDINANCE)\b.+)$", RegexOptions.IgnoreCase)]
    private static partial Regex ResolutionTitle();

    [GeneratedRegex(@"^\s*to\s+table\b", RegexOptions.IgnoreCase)]
    private static partial Regex TableObject();

    [GeneratedRegex(@"^\s*to\s+(?:continue|postpone|defer)\b", RegexOptions.IgnoreCase)]
    private static partial Regex ContinueObject();

    [GeneratedRegex(@"^\s*to\s+refer\b", RegexOptions.IgnoreCase)]
    private static partial Regex ReferObject();

    [GeneratedRegex(@"[A-Z][\w'’.-]*")]
    private static partial Regex PersonWord();

    private const string Name = @"((?:(?:[A-Z][\w'’.-]*|Pro|Tem|de|van|von)\s*){1,5}?)";

    [GeneratedRegex(@"\b(?:on|upon)\s+(?:a\s+)?motion\s+(?:by|of|from)\s+" + Name + @"\s*(?:,|\band\b|\bseconded\b|\bsecond\b|$)", RegexOptions.IgnoreCase)]
    private static partial Regex MoverOnMotion();

    [GeneratedRegex(@"\b(?:moved|introduced|made)\s+by\s+" + Name + @"(?:\s*(?:,|\band\b|\bseconded\b|\bsecond\b|\bwho\b)|\s*$)", RegexOptions.IgnoreCase)]
    private static partial Regex MoverMovedBy();

    [GeneratedRegex(@"\b(?:MOTION|Motion)\s*:\s*" + Name + @"\s*(?:/|;|,|\bSECOND|\bSecond|$)")]
    private static partial Regex MoverLabel();

    [GeneratedRegex(@"(?:^|[.;]\s*|\bthen\s+|,\s*)" + Name + @"(?:\s*,\s*who\s+[^,]+,)?\s+(?:then\s+)?(?:moved|made\s+(?:a|the)\s+motion|offered|moves)\b")]
    private static partial Regex MoverBefore();

    [GeneratedRegex(@"\bMotion\s+(?:by|of|made\s+by)\s+" + Name + @"\s*(?:,|\bto\b|\bseconded\b|\bsecond\b|\band\b|$)", RegexOptions.IgnoreCase)]
    private static partial Regex MoverMotionBy();

    [GeneratedRegex(@"\bsecond(?:ed)?\s*(?:by|:)\s*" + Name + @"(?:\s*(?:[,;.]|\bto\b|\band\b|-)|\s*$)", RegexOptions.IgnoreCase)]
    private static partial Regex SeconderAfter();

    [GeneratedRegex(@"(?:,|;|\band\b)\s*" + Name + @"\s+seconded\b")]
    private static partial Regex SeconderBefore();

    [GeneratedRegex(@"\b(?:carried|passed|prevailed|approved|adopted|CARRIED|in\s+favor|unanimous\s+consent|without\s+objection|no\s+objection)\b", RegexOptions.IgnoreCase)]
    private static partial Regex CarryWord();

    [GeneratedRegex(@"\b(?:failed|defeated|lost|did\s+not\s+pass)\b", RegexOptions.IgnoreCase)]
    private static partial Regex FailWord();

    [GeneratedRegex(@"\b(?:carried|passed|prevailed|approved|adopted|failed|fails|defeated|lost|did\s+not\s+pass|tabled|continued|postponed|referred|denied|rejected|in\s+favor|unanimous\s+consent|without\s+objection|no\s+objection|appointed|upheld|awarded|accepted|authorized|introduced)\b", RegexOptions.IgnoreCase)]
    private static partial Regex OutcomeWords();

    [GeneratedRegex(@"\bwithdr(?:ew|awn)\b", RegexOptions.IgnoreCase)]
    private static partial Regex Withdrawn();

    [GeneratedRegex(@"\bdied\s+for\s+(?:lack|want)\s+of\s+a\s+second\b|\bfailed\s+for\s+lack\s+of\s+a\s+second\b", RegexOptions.IgnoreCase)]
    private static partial Regex DiedNoSecond();

    [GeneratedRegex(@"(?<![\w./-])(\d{1,2})\s*[-–—]\s*(\d{1,2})(?:\s*[-–—]\s*(\d{1,2}))?(?![\w/]|[.-]\d)")]
    private static partial Regex DigitTallyRe();

    [GeneratedRegex(@"\b(?:vote\s+(?:of|was)|voted|carried|passed|failed)\s+(?:by\s+a\s+vote\s+of\s+)?(?<a>" + Num + @")\s+to\s+(?<n>" + Num + @")\b|\b(?<a>" + Num + @")\s+in\s+favor\s*(?:,|and|with)?\s*(?:and\s+)?(?<n>" + Num + @")\s+(?:opposed|against)\b", RegexOptions.IgnoreCase)]
    private static partial Regex WordTally();

    [GeneratedRegex(@"\b(AYES?|YEAS?|NOES|NAYS?|ABSTAIN(?:ED|S)?|ABSTENTIONS?|Ayes?|Yeas?|Noes|Nays?|Abstain(?:ed|s)?|Abstentions?)\s*:\s*(\d{1,2})\b")]
    private static partial Regex CountLabel();

    [GeneratedRegex(@"\b(AYES?|YEAS?|NOES|NAYS?|ABSTAIN(?:ED|S)?|Ayes?|Yeas?|Noes|Nays?|Abstain(?:ed|s)?|For|Against)\s*:\s*((?:[A-Z][^.:;]*?|[Nn]one)?)(?=\s*(?:\.\s|\.$|;|$|\b(?:AYES?|NOES|NAYS?|ABSTAIN|ABSENT|RECUSED|Ayes?|Noes|Nays?|Abstain|Absent|Against|Recused)\b\s*:))")]
    private static partial Regex NameList();

    [GeneratedRegex(@"(?:^|,|:|\s)\s*((?:[A-Z][\w'’.-]*\s+){0,3}[A-Z][\w'’.-]*)\s*(?:\|\s*)?\b(aye|yes|yea|nay|no|abstain(?:ed)?)\b(?=\s*(?:,|\.|;|\||$))", RegexOptions.None)]
    private static partial Regex PerNameVote();

    [GeneratedRegex(@"\babstain(?:ed|ing)\b|\babstention\b", RegexOptions.IgnoreCase)]
    private static partial Regex AbstainMention();

    [GeneratedRegex(@"\s*(?:,|;|\band\b)\s*")]
    private static partial Regex NameSeparator();

    [GeneratedRegex(@"\broll\s+call\b|\brecorded\s+vote\b|\bfollowing\s+vote\b", RegexOptions.IgnoreCase)]
    private static partial Regex RollCallWord();

    [GeneratedRegex(@"\bcarried\b|\bfailed\b|\bdefeated\b|^\s*(?:AYES?|Ayes?|YEAS?)\s*:|\bvoted\s+(?:unanimously|" + Num + @")|\bvote\s+(?:of|was)\b|^\s*(?:Result|RESULT|ACTION)\s*:\s*(?:Approved|Adopted|Denied|Failed|Continued|Referred|Tabled|Carried)|\ball\s+in\s+favor\b|\bunanimous\s+consent\b|\bwithout\s+objection\b|\bdied\s+for\s+lack\b|\b(?:motion|amendment|resolution|ordinance)\s+(?:was\s+)?(?:passed|adopted|approved)\b", RegexOptions.IgnoreCase)]
    private static partial Regex PlainVote();
}
