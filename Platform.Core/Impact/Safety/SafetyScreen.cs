using System.Text.RegularExpressions;

namespace Platform.Core.Impact.Safety;

public static class SafetyCategories
{
    public const string Abuse = "abuse";
    public const string SelfHarm = "self_harm";
    public const string ContactData = "contact_data";
}

/// <summary>What the screen found: categories and the matched signals (a cue name, never the text itself).</summary>
public sealed record SafetyVerdict(IReadOnlyList<string> Categories, IReadOnlyList<string> Signals)
{
    public bool Flagged => Categories.Count > 0;
}

/// <summary>
/// Screens a check-in note or feedback on ingestion (version <see cref="Version"/>): abusive language,
/// self-harm signals and leaked contact data (e-mail addresses, phone numbers). Deliberately recall-first —
/// a person reviews every flag, and a flagged text is not scored until then — so the lists are short and
/// broad rather than clever. Pure function.
/// </summary>
public static partial class SafetyScreen
{
    public const string Version = "safety-screen/1";

    private static readonly string[] SelfHarmCues =
    [
        "kill myself", "end my life", "want to die", "wish i was dead", "wish i were dead", "suicide", "suicidal",
        "hurt myself", "harm myself", "self-harm", "self harm", "cut myself", "no reason to live", "better off dead",
    ];

    private static readonly string[] AbuseCues =
    [
        "idiot", "stupid", "moron", "shut up", "bitch", "bastard", "fuck", "asshole", "retard", "go back to your country",
        "i will hurt you", "threaten", "hate you", "worthless",
    ];

    public static SafetyVerdict Screen(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return new SafetyVerdict([], []);
        }
        var lower = text.ToLowerInvariant();
        var categories = new List<string>();
        var signals = new List<string>();
        foreach (var cue in SelfHarmCues)
        {
            if (ContainsWord(lower, cue))
            {
                signals.Add($"{SafetyCategories.SelfHarm}:{cue}");
            }
        }
        if (signals.Count > 0)
        {
            categories.Add(SafetyCategories.SelfHarm);
        }
        var before = signals.Count;
        foreach (var cue in AbuseCues)
        {
            if (ContainsWord(lower, cue))
            {
                signals.Add($"{SafetyCategories.Abuse}:{cue}");
            }
        }
        if (signals.Count > before)
        {
            categories.Add(SafetyCategories.Abuse);
        }
        before = signals.Count;
        if (Email().IsMatch(text))
        {
            signals.Add($"{SafetyCategories.ContactData}:email");
        }
        if (Phone().IsMatch(text))
        {
            signals.Add($"{SafetyCategories.ContactData}:phone");
        }
        if (signals.Count > before)
        {
            categories.Add(SafetyCategories.ContactData);
        }
        return new SafetyVerdict(categories, signals);
    }

    private static bool ContainsWord(string lower, string cue)
    {
        for (var i = lower.IndexOf(cue, StringComparison.Ordinal); i >= 0; i = lower.IndexOf(cue, i + 1, StringComparison.Ordinal))
        {
            var startOk = i == 0 || !char.IsLetter(lower[i - 1]);
            var end = i + cue.Length;
            var endOk = end == lower.Length || !char.IsLetter(lower[end]);
            if (startOk && endOk)
            {
                return true;
            }
        }
        return false;
    }

    [GeneratedRegex(@"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")]
    private static partial Regex Email();

    // Eight or more digits, optionally with a leading + and separators: phone-shaped, not a year or a time.
    [GeneratedRegex(@"(?<![\w])\+?\d(?:[\s\-().]?\d){7,}(?![\w])")]
    private static partial Regex Phone();
}
