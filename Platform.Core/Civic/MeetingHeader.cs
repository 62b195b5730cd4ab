using System.Globalization;
using System.Text.RegularExpressions;

namespace Platform.Core.Civic;

/// <summary>Which meeting a document records: city, body, kind and date, read from its first lines.</summary>
public sealed record MeetingIdentity(string? City, string? Body, string? Kind, DateOnly? Date)
{
    /// <summary>"Alder Creek City Council regular meeting, March 3, 2026"; null when neither body nor date is known.</summary>
    public string? Title
    {
        get
        {
            if (Body is null && Date is null)
            {
                return null;
            }
            var who = string.Join(' ', new[] { City is not null && Body is not null && !Body.Contains(City, StringComparison.OrdinalIgnoreCase) ? City : null, Body ?? "Meeting" }
                .Where(x => x is not null));
            var kind = Kind is null ? (Body is null ? "" : " meeting") : $" {Kind} meeting";
            var when = Date is { } d ? ", " + d.ToString("MMMM d, yyyy", CultureInfo.InvariantCulture) : "";
            return $"{who}{kind}{when}";
        }
    }
}

public static partial class MeetingHeader
{
    /// <summary>How far into the text the header is looked for (a meeting's identity is always at the top).</summary>
    private const int HeaderChars = 1500;

    public static MeetingIdentity Read(string text)
    {
        var head = text.Length > HeaderChars ? text[..HeaderChars] : text;
        var bodies = BodyName().Matches(head).Select(m => Canonical(m.Value)).Distinct().ToList();
        var body = bodies.Count switch
        {
            0 => null,
            _ when bodies.Count > 1 && JointWord().IsMatch(head) => string.Join(" and ", bodies.Take(2)),
            _ => bodies[0],
        };
        var kind = KindWord().Match(head) is { Success: true } k ? k.Groups[1].Value.ToLowerInvariant().Replace("  ", " ", StringComparison.Ordinal) : null;
        var city = CityName().Match(head) is { Success: true } c ? Clean(c.Groups["c"].Value) : null;
        return new MeetingIdentity(city, body, kind, FirstDate(head) ?? FirstDate(text));
    }

    /// <summary>The first date written in the text, in any of the usual forms.</summary>
    public static DateOnly? FirstDate(string text)
    {
        DateOnly? best = null;
        var bestAt = int.MaxValue;
        foreach (var re in new[] { MonthDayYear(), DayMonthYear(), OrdinalDay(), Numeric(), Iso() })
        {
            foreach (Match m in re.Matches(text))
            {
                if (m.Index >= bestAt)
                {
                    break;
                }
                if (Parse(m) is { } d)
                {
                    best = d;
                    bestAt = m.Index;
                    break;
                }
            }
        }
        return best;
    }

    private static DateOnly? Parse(Match m)
    {
        int year, month, day;
        if (m.Groups["iso"].Success)
        {
            (year, month, day) = (Int(m.Groups["y"].Value), Int(m.Groups["m"].Value), Int(m.Groups["d"].Value));
        }
        else if (m.Groups["num"].Success)
        {
            (year, month, day) = (Int(m.Groups["y"].Value), Int(m.Groups["m"].Value), Int(m.Groups["d"].Value));
            if (year < 100)
            {
                year += 2000;
            }
        }
        else
        {
            var name = m.Groups["mon"].Value.ToLowerInvariant();
            month = Array.FindIndex(Months, x => name.StartsWith(x, StringComparison.Ordinal)) + 1;
            (year, day) = (Int(m.Groups["y"].Value), Int(m.Groups["d"].Value));
        }
        return month is >= 1 and <= 12 && day >= 1 && day <= DateTime.DaysInMonth(Math.Clamp(year, 1, 9999), month) && year is >= 1990 and <= 2100
            ? new DateOnly(year, month, day)
            : null;
    }

    private static readonly string[] Months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

    private static int Int(string s) => int.Parse(s, CultureInfo.InvariantCulture);

    private static string Canonical(string body)
    {
        var b = Spaces().Replace(body.Trim(), " ");
        b = CultureInfo.InvariantCulture.TextInfo.ToTitleCase(b.ToLowerInvariant()).Replace(" Of ", " of ", StringComparison.Ordinal)
            .Replace(" To ", " to ", StringComparison.Ordinal).Replace(" The ", " the ", StringComparison.Ordinal);
        return b.StartsWith("Successor Agency", StringComparison.Ordinal) ? "Successor Agency" : b;
    }

    private static string Clean(string s) => CultureInfo.InvariantCulture.TextInfo.ToTitleCase(Spaces().Replace(s.Trim(), " ").ToLowerInvariant());

    private const string Mon = @"(?<mon>Jan(?:uary|\.)?|Feb(?:ruary|\.)?|Mar(?:ch|\.)?|Apr(?:il|\.)?|May|June?|July?|Aug(?:ust|\.)?|Sep(?:t(?:ember)?|\.)?\.?|Oct(?:ober|\.)?|Nov(?:ember|\.)?|Dec(?:ember|\.)?)";

    [GeneratedRegex(@"\b" + Mon + @"\s+(?<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?<y>\d{4})\b", RegexOptions.IgnoreCase)]
    private static partial Regex MonthDayYear();

    [GeneratedRegex(@"\b(?<d>\d{1,2})(?:st|nd|rd|th)?\s+" + Mon + @",?\s+(?<y>\d{4})\b", RegexOptions.IgnoreCase)]
    private static partial Regex DayMonthYear();

    [GeneratedRegex(@"\b(?<d>\d{1,2})(?:st|nd|rd|th)\s+day\s+of\s+" + Mon + @",?\s+(?<y>\d{4})\b", RegexOptions.IgnoreCase)]
    private static partial Regex OrdinalDay();

    [GeneratedRegex(@"(?<![\w/.-])(?<num>(?<m>\d{1,2})/(?<d>\d{1,2})/(?<y>\d{4}|\d{2}))(?![\w/])")]
    private static partial Regex Numeric();

    [GeneratedRegex(@"(?<![\w-])(?<iso>(?<y>\d{4})-(?<m>\d{2})-(?<d>\d{2}))(?![\w-])")]
    private static partial Regex Iso();

    [GeneratedRegex(@"\b(?:City|Town|Village|Borough|Township|County)\s+Council\b|\bCouncil\s+of\s+the\s+(?:City|Town)\b|\bBoard\s+of\s+(?:Supervisors|Trustees|Aldermen|Selectmen|Directors|Commissioners|Education)\b|\b(?:City|County)\s+Commission\b|\bPlanning\s+(?:and\s+Zoning\s+)?Commission\b|\bSuccessor\s+Agency\b|\bRedevelopment\s+Agency\b|\bHousing\s+Authority\b|\bParking\s+Authority\b|\bSelect\s+Board\b|\bVillage\s+Board\b", RegexOptions.IgnoreCase)]
    private static partial Regex BodyName();

    [GeneratedRegex(@"\bjoint\b|\bconcurrent\b|\bcombined\b", RegexOptions.IgnoreCase)]
    private static partial Regex JointWord();

    [GeneratedRegex(@"\b(regular|special|adjourned\s+regular|adjourned|joint\s+regular|joint|emergency|study\s+session|workshop|budget\s+workshop)\b(?:\s+(?:meeting|session))?", RegexOptions.IgnoreCase)]
    private static partial Regex KindWord();

    [GeneratedRegex(@"\b(?:CITY|TOWN|VILLAGE|COUNTY|City|Town|Village|County)\s+OF\s+(?<c>[A-Z][A-Za-z]+(?:[ -][A-Z][A-Za-z]+){0,2})|\b(?:City|Town|Village|County)\s+of\s+(?<c>[A-Z][a-z]+(?:\s[A-Z][a-z]+){0,2})")]
    private static partial Regex CityName();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
