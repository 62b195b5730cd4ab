using System.Security.Cryptography;
using System.Text;

namespace Platform.Core.Security;

/// <summary>
/// Random bearer credentials: 256 bits of entropy behind a readable prefix (<c>pk_</c> tenant API key,
/// <c>cs_</c> channel secret, <c>op_</c> operator key). Only the SHA-256 hash is stored; the value is shown once.
/// </summary>
public static class Credentials
{
    public const string TenantKeyPrefix = "pk_";
    public const string ChannelSecretPrefix = "cs_";
    public const string OperatorKeyPrefix = "op_";

    public static string Generate(string prefix) => prefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    /// <summary>SHA-256 of the whole value, hex. Fast on purpose: the value is high-entropy, not a password.</summary>
    public static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    /// <summary>Constant-time comparison of a presented value against a configured one.</summary>
    public static bool Matches(string presented, string expected) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));

    public static string Base64Url(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
