using System.Security.Cryptography;
using System.Text;

namespace Platform.AppHost;

/// <summary>
/// Makes the Admin panel's <c>Admin:PasswordHash</c>: <c>pbkdf2-sha256$iterations$salt$hash</c> (base64), the format
/// Platform.Admin's <c>AdminPasswordHash.Verify</c> reads. Duplicated rather than shared because the AppHost references
/// the services as resources, not as assemblies.
/// </summary>
public static class AdminPasswordHashing
{
    public static string Hash(string password, int iterations = 600_000)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
        return $"pbkdf2-sha256${iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }
}
