using System.Collections.Immutable;

namespace Platform.Api.Identity;

/// <summary>
/// Password rules after NIST SP 800-63B: at least 10 characters and at most 256 (long passphrases welcome, no composition
/// rules), not one of the passwords most often seen in breaches, and not the e-mail address itself.
/// </summary>
public static class PasswordRules
{
    public const int MinLength = 10;
    public const int MaxLength = 256;

    /// <summary>The most common passwords of public breach corpora that are 10 characters or longer.</summary>
    private static readonly ImmutableHashSet<string> Breached = ImmutableHashSet.Create(StringComparer.OrdinalIgnoreCase,
        "1234567890", "12345678910", "123456789a", "0123456789", "1q2w3e4r5t", "qwertyuiop", "1qaz2wsx3edc", "password12",
        "password123", "password1234", "iloveyou12", "qwerty1234", "qwerty123456", "1234qwer", "abcdefghij", "abc1234567",
        "football123", "princess12", "passw0rd123", "welcome123", "sunshine12", "letmein123", "administrator", "1111111111",
        "0000000000", "9876543210", "1234512345", "aaaaaaaaaa", "asdfghjkl1", "zxcvbnm123", "changeme123", "qazwsxedc123");

    public static string? Check(string password, string email)
    {
        var length = new System.Globalization.StringInfo(password).LengthInTextElements;
        if (length < MinLength)
        {
            return $"Choose a password of at least {MinLength} characters; a few words together make a good one.";
        }
        if (password.Length > MaxLength)
        {
            return $"A password may have at most {MaxLength} characters.";
        }
        if (Breached.Contains(password) || password.Distinct().Count() <= 2)
        {
            return "This password appears in lists of leaked passwords; choose another.";
        }
        if (string.Equals(password.Trim(), email.Trim(), StringComparison.OrdinalIgnoreCase))
        {
            return "The password must not be your e-mail address.";
        }
        return null;
    }
}
