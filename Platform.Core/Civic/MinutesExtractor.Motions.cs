using System.Globalization;
using System.Text.RegularExpressions;

namespace Platform.Core.Civic;

/// <summary>Reads a motion: its mover and seconder, and what it moves ("to adopt …") from the sentence or its context.</summary>
public static partial class MinutesExtractor
{
    private static string? Person(string? phrase)
    {
        if (phrase is null)
        {
            return null;
        }
        var words = PersonWord().Matches(phrase).Select(m => m.Value.TrimEnd('.', '-', '’', '\'')).Where(w => w.Length > 1 && !Titles.Contains(w)).ToList();
        return words.Count == 0 ? null : words[^1];
    }

    private static readonly HashSet<string> Titles = new(StringComparer.OrdinalIgnoreCase)
    {
        "Councilmember", "Councilmembers", "Council", "Member", "Councilor", "Councillor", "Mayor", "Vice", "Pro", "Tem", "Deputy", "Chair", "Chairman",
        "Chairwoman", "Chairperson", "Supervisor", "Trustee", "Commissioner", "Alderman", "Alderwoman", "Alderperson", "Selectman", "Director",
        "Agency", "Board", "President", "Vice-Chair", "Vice-Mayor", "Mr", "Ms", "Mrs", "Dr", "Boardmember", "Councilwoman", "Councilman", "Secretary",
        "Treasurer", "Delegate", "Senator", "Representative", "Legislator", "Presiding", "Officer", "Speaker", "Motion", "Second", "Seconded", "By",
        "The", "It", "On", "Moved", "Action", "Councilmember/Agency", "Mayor/Chair",
    };

    private static string? Mover(string s)
    {
        foreach (var re in new[] { MoverOnMotion(), MoverMovedBy(), MoverLabel(), MoverBefore(), MoverMotionBy() })
        {
            if (re.Match(s) is { Success: true } m && Person(m.Groups[1].Value) is { } p)
            {
                return p;
            }
        }
        return null;
    }

    private static string? Seconder(string s) =>
        SeconderAfter().Match(s) is { Success: true } a && Person(a.Groups[1].Value) is { } p ? p
        : SeconderBefore().Match(s) is { Success: true } b ? Person(b.Groups[1].Value)
        : null;

    /// <summary>What a motion moves, as "to &lt;verb&gt; …", or null when the sentence does not say.</summary>
    private static string? ObjectOf(string s, List<Sentence> sentences, int index)
    {
        if (ItsAdoption().IsMatch(s))
        {
            for (var j = index - 1; j >= 0 && j >= index - 3; j--)
            {
                if (ResolutionTitle().Match(sentences[j].Text) is { Success: true } r)
                {
                    return "to adopt " + Plain(r.Groups[1].Value);
                }
                if (sentences[j].Kind == SentenceKind.Heading)
                {
                    break;
                }
            }
            return null;
        }
        string? found = null;
        if (ThatClause().Match(s) is { Success: true } that)
        {
            found = "to " + that.Groups[1].Value;
        }
        else if (BodyDid().Match(s) is { Success: true } did)
        {
            found = "to " + BaseVerb(did.Groups[1].Value) + " " + did.Groups[2].Value;
        }
        else if (ApprovalOf().Match(s) is { Success: true } ap)
        {
            found = "to approve " + ap.Groups[1].Value;
        }
        else if (ToClause().Match(s) is { Success: true } to)
        {
            found = to.Groups[1].Value;
        }
        if (found is null)
        {
            return null;
        }
        found = ObjectEnd().Replace(found, "");
        found = found.Trim().TrimEnd('.', ',', ';', ':').Trim();
        return found.Length <= 3 ? null : found;
    }

    private static string Plain(string upper) =>
        IsAllCaps(upper) ? CultureInfo.InvariantCulture.TextInfo.ToLower(upper).Trim().TrimEnd('.') : upper.Trim().TrimEnd('.');

    private static string DispositionObject(string sentence)
    {
        var s = ActionLabel().Replace(sentence, "").Trim();
        return "the item: " + LowerFirst(s.TrimEnd('.'));
    }

    private static string LowerFirst(string s) => s.Length > 1 && char.IsUpper(s[0]) && !char.IsUpper(s[1]) ? char.ToLowerInvariant(s[0]) + s[1..] : s;

    private static string TitleCase(string s) => IsAllCaps(s) ? CultureInfo.InvariantCulture.TextInfo.ToTitleCase(s.ToLowerInvariant()) : s;

    private static readonly Dictionary<string, string> Irregular = new(StringComparer.OrdinalIgnoreCase)
    {
        ["upheld"] = "uphold", ["set"] = "set", ["sent"] = "send", ["held"] = "hold", ["made"] = "make", ["gave"] = "give", ["chose"] = "choose",
    };

    private static string BaseVerb(string past)
    {
        var p = past.ToLowerInvariant();
        if (Irregular.TryGetValue(p, out var b))
        {
            return b;
        }
        if (p.EndsWith("ied", StringComparison.Ordinal))
        {
            return p[..^3] + "y";
        }
        if (p is "referred" or "deferred" or "transferred")
        {
            return p[..^3];
        }
        if (p.EndsWith("ed", StringComparison.Ordinal))
        {
            var stem = p[..^2];
            // adopted → adopt, approved → approve, tabled → table, continued → continue
            return stem.EndsWith('v') || stem.EndsWith('u') || stem.EndsWith("bl", StringComparison.Ordinal) || stem.EndsWith('c')
                   || stem.EndsWith('z') || (stem.EndsWith('s') && !stem.EndsWith("ss", StringComparison.Ordinal)) || stem.EndsWith("at", StringComparison.Ordinal)
                   || stem.EndsWith("ut", StringComparison.Ordinal) || stem.EndsWith("in", StringComparison.Ordinal) && !stem.EndsWith("ain", StringComparison.Ordinal)
                ? stem + "e" : stem;
        }
        return p;
    }
}
