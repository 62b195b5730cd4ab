using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Platform.Core.Notifications;

/// <summary>
/// Message encryption for Web Push (RFC 8291) in the <c>aes128gcm</c> content coding (RFC 8188), one record:
/// ECDH P-256 between a fresh application-server key and the subscription's <c>p256dh</c>, HKDF-SHA-256 keyed
/// by the subscription's <c>auth</c> secret, AES-128-GCM. Only System.Security.Cryptography.
/// </summary>
public static class WebPushEncryption
{
    public const int RecordSize = 4096;
    private const int TagLength = 16;
    private static readonly byte[] KeyInfoLabel = "WebPush: info\0"u8.ToArray();
    private static readonly byte[] CekInfo = "Content-Encoding: aes128gcm\0"u8.ToArray();
    private static readonly byte[] NonceInfo = "Content-Encoding: nonce\0"u8.ToArray();

    /// <summary>Encrypts with a fresh sender key and salt (what every real send does).</summary>
    public static byte[] Encrypt(ReadOnlySpan<byte> plaintext, byte[] userAgentPublicKey, byte[] authSecret)
    {
        using var sender = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        return Encrypt(plaintext, userAgentPublicKey, authSecret, sender, RandomNumberGenerator.GetBytes(16));
    }

    /// <summary>Encrypts with a given sender key and salt: deterministic, for the RFC 8291 Appendix A example.</summary>
    public static byte[] Encrypt(ReadOnlySpan<byte> plaintext, byte[] userAgentPublicKey, byte[] authSecret, ECDiffieHellman sender, byte[] salt)
    {
        if (plaintext.Length + 1 + TagLength > RecordSize - 86)
        {
            throw new ArgumentException($"A Web Push payload is at most {RecordSize - 86 - 1 - TagLength} bytes.", nameof(plaintext));
        }
        var senderPublic = P256.PublicKeyBytes(sender.ExportParameters(false));
        using var ua = P256.ImportPublic(userAgentPublicKey);
        var shared = sender.DeriveRawSecretAgreement(ua.PublicKey);
        var (cek, nonce) = DeriveKeys(shared, authSecret, userAgentPublicKey, senderPublic, salt);

        // One record: plaintext then the last-record delimiter 0x02, no further padding.
        var padded = new byte[plaintext.Length + 1];
        plaintext.CopyTo(padded);
        padded[^1] = 0x02;
        var body = new byte[16 + 4 + 1 + senderPublic.Length + padded.Length + TagLength];
        salt.CopyTo(body, 0);
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(16), RecordSize);
        body[20] = (byte)senderPublic.Length;
        senderPublic.CopyTo(body, 21);
        var header = 21 + senderPublic.Length;
        using var aes = new AesGcm(cek, TagLength);
        aes.Encrypt(nonce, padded, body.AsSpan(header, padded.Length), body.AsSpan(header + padded.Length, TagLength));
        return body;
    }

    /// <summary>The user agent's side: what a browser does with the body (used by tests and the bench's receiver).</summary>
    public static byte[] Decrypt(ReadOnlySpan<byte> body, ECDiffieHellman userAgent, byte[] authSecret)
    {
        var salt = body[..16].ToArray();
        var recordSize = BinaryPrimitives.ReadUInt32BigEndian(body[16..]);
        var idLength = body[20];
        var senderPublic = body.Slice(21, idLength).ToArray();
        var record = body[(21 + idLength)..];
        if (record.Length > recordSize || record.Length < TagLength + 1)
        {
            throw new CryptographicException("The body is not one aes128gcm record.");
        }
        using var sender = P256.ImportPublic(senderPublic);
        var shared = userAgent.DeriveRawSecretAgreement(sender.PublicKey);
        var uaPublic = P256.PublicKeyBytes(userAgent.ExportParameters(false));
        var (cek, nonce) = DeriveKeys(shared, authSecret, uaPublic, senderPublic, salt);
        var padded = new byte[record.Length - TagLength];
        using var aes = new AesGcm(cek, TagLength);
        aes.Decrypt(nonce, record[..padded.Length], record[padded.Length..], padded);
        var end = padded.Length - 1;
        while (end >= 0 && padded[end] == 0)
        {
            end--;
        }
        if (end < 0 || padded[end] != 0x02)
        {
            throw new CryptographicException("The record does not end with the last-record delimiter.");
        }
        return padded[..end];
    }

    private static (byte[] Cek, byte[] Nonce) DeriveKeys(byte[] shared, byte[] authSecret, byte[] uaPublic, byte[] senderPublic, byte[] salt)
    {
        // RFC 8291 §3.4: IKM = HKDF(auth_secret, ecdh_secret, "WebPush: info" 0x00 ua_public as_public, 32)
        var keyInfo = new byte[KeyInfoLabel.Length + uaPublic.Length + senderPublic.Length];
        KeyInfoLabel.CopyTo(keyInfo, 0);
        uaPublic.CopyTo(keyInfo, KeyInfoLabel.Length);
        senderPublic.CopyTo(keyInfo, KeyInfoLabel.Length + uaPublic.Length);
        var ikm = HKDF.DeriveKey(HashAlgorithmName.SHA256, shared, 32, authSecret, keyInfo);
        // RFC 8188 §2.2: PRK = HKDF-Extract(salt, IKM); CEK and NONCE expand from it.
        var prk = HKDF.Extract(HashAlgorithmName.SHA256, ikm, salt);
        return (HKDF.Expand(HashAlgorithmName.SHA256, prk, 16, CekInfo), HKDF.Expand(HashAlgorithmName.SHA256, prk, 12, NonceInfo));
    }
}

/// <summary>P-256 key plumbing in the encodings Web Push uses (uncompressed points, raw 32-byte scalars, base64url).</summary>
public static class P256
{
    public static byte[] PublicKeyBytes(ECParameters p)
    {
        var bytes = new byte[65];
        bytes[0] = 0x04;
        p.Q.X!.CopyTo(bytes, 1);
        p.Q.Y!.CopyTo(bytes, 33);
        return bytes;
    }

    public static ECDiffieHellman ImportPublic(byte[] uncompressed)
    {
        if (uncompressed.Length != 65 || uncompressed[0] != 0x04)
        {
            throw new CryptographicException("A P-256 public key is 65 bytes starting with 0x04.");
        }
        return ECDiffieHellman.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = uncompressed[1..33], Y = uncompressed[33..] },
        });
    }

    /// <summary>A key pair from its raw private scalar and public point (RFC 8291 gives both).</summary>
    public static ECParameters Parameters(byte[] privateScalar, byte[] publicPoint) => new()
    {
        Curve = ECCurve.NamedCurves.nistP256,
        D = privateScalar,
        Q = new ECPoint { X = publicPoint[1..33], Y = publicPoint[33..] },
    };

    /// <summary>Whether the bytes are a point on P-256 (a subscription's p256dh must be).</summary>
    public static bool IsValidPublicKey(byte[] bytes)
    {
        try
        {
            using var key = ImportPublic(bytes);
            key.ExportParameters(false);
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}

public static class Base64Url
{
    public static string Encode(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static byte[] Decode(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        s += (s.Length % 4) switch { 2 => "==", 3 => "=", _ => "" };
        return Convert.FromBase64String(s);
    }

    public static bool TryDecode(string? text, out byte[] bytes)
    {
        bytes = [];
        if (string.IsNullOrEmpty(text) || text.Length % 4 == 1)
        {
            return false;
        }
        try
        {
            bytes = Decode(text);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

/// <summary>
/// VAPID (RFC 8292): an ES256 JWT naming the push service's origin, sent as
/// <c>Authorization: vapid t=&lt;jwt&gt;, k=&lt;public key&gt;</c>. One key pair per deployment
/// (<c>Platform:Notifications:Vapid:PublicKey</c>/<c>PrivateKey</c>, base64url).
/// </summary>
public sealed class Vapid : IDisposable
{
    private readonly ECDsa _key;

    public string PublicKey { get; }
    public string Subject { get; }

    public Vapid(string publicKey, string privateKey, string subject)
    {
        _key = ECDsa.Create(P256.Parameters(Base64Url.Decode(privateKey), Base64Url.Decode(publicKey)));
        PublicKey = publicKey;
        Subject = subject;
    }

    public static (string PublicKey, string PrivateKey) GenerateKeys()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p = key.ExportParameters(true);
        return (Base64Url.Encode(P256.PublicKeyBytes(p)), Base64Url.Encode(p.D));
    }

    /// <summary>The Authorization header value for a push endpoint; valid 12 hours (RFC 8292 allows at most 24).</summary>
    public string Authorization(Uri endpoint, DateTimeOffset now)
    {
        var audience = endpoint.GetLeftPart(UriPartial.Authority);
        var header = Base64Url.Encode("{\"typ\":\"JWT\",\"alg\":\"ES256\"}"u8);
        var claims = Base64Url.Encode(Encoding.UTF8.GetBytes(
            $"{{\"aud\":\"{audience}\",\"exp\":{(now + TimeSpan.FromHours(12)).ToUnixTimeSeconds()},\"sub\":\"{Subject}\"}}"));
        var signingInput = $"{header}.{claims}";
        // ES256 signatures are r||s (IEEE P1363), which is what ECDsa.SignData produces by default.
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256);
        return $"vapid t={signingInput}.{Base64Url.Encode(signature)}, k={PublicKey}";
    }

    public void Dispose() => _key.Dispose();
}
