using System.Security.Cryptography;
using System.Text;
using Platform.Core.Notifications;

namespace Platform.Tests.Unit.Notifications;

public sealed class NotificationCryptoTests
{
    // RFC 8291 Appendix A.
    private const string Plaintext = "When I grow up, I want to be a watermelon";
    private const string AsPrivate = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
    private const string AsPublic = "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";
    private const string UaPrivate = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
    private const string UaPublic = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    private const string Salt = "DGv6ra1nlYgDCS1FRnbzlw";
    private const string AuthSecret = "BTBZMqHH6r4Tts7J_aSIgg";
    private const string Body =
        "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";

    [Fact]
    public void Encrypting_the_RFC_8291_example_gives_the_published_body()
    {
        using var sender = ECDiffieHellman.Create(P256.Parameters(Base64Url.Decode(AsPrivate), Base64Url.Decode(AsPublic)));
        var body = WebPushEncryption.Encrypt(Encoding.UTF8.GetBytes(Plaintext), Base64Url.Decode(UaPublic), Base64Url.Decode(AuthSecret), sender,
            Base64Url.Decode(Salt));
        Assert.Equal(Body, Base64Url.Encode(body));
    }

    [Fact]
    public void The_RFC_8291_body_decrypts_to_the_published_plaintext()
    {
        using var userAgent = ECDiffieHellman.Create(P256.Parameters(Base64Url.Decode(UaPrivate), Base64Url.Decode(UaPublic)));
        Assert.Equal(Plaintext, Encoding.UTF8.GetString(WebPushEncryption.Decrypt(Base64Url.Decode(Body), userAgent, Base64Url.Decode(AuthSecret))));
    }

    [Fact]
    public void A_fresh_encryption_round_trips_and_tampering_is_detected()
    {
        using var userAgent = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var auth = RandomNumberGenerator.GetBytes(16);
        var body = WebPushEncryption.Encrypt("{\"hello\":1}"u8, P256.PublicKeyBytes(userAgent.ExportParameters(false)), auth);
        Assert.Equal("{\"hello\":1}", Encoding.UTF8.GetString(WebPushEncryption.Decrypt(body, userAgent, auth)));
        body[^3] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() => WebPushEncryption.Decrypt(body, userAgent, auth));
    }

    [Fact]
    public void Webhook_signature_matches_the_Standard_Webhooks_example()
    {
        // From the Standard Webhooks specification's reference test.
        const string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        var body = "{\"test\": 2432232314}"u8.ToArray();
        var signature = WebhookSignature.Sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", signature);
        Assert.True(WebhookSignature.Verify(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, $"v1,bogus {signature}"));
        Assert.False(WebhookSignature.Verify(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body, signature));
    }

    [Fact]
    public void Dedupe_key_is_sha256_of_user_subject_and_type()
    {
        Assert.Equal(SHA256.HashData("u1|meeting-9|civic.summary"u8.ToArray()), NotificationOutbox.DedupeKey("u1", "meeting-9", "civic.summary"));
        Assert.NotEqual(NotificationOutbox.DedupeKey("u1", "a", "t"), NotificationOutbox.DedupeKey("u1", "a", "t2"));
    }

    [Fact]
    public void Preferences_name_the_reason_for_suppression()
    {
        var now = new DateTimeOffset(2026, 11, 22, 0, 0, 0, TimeSpan.Zero);
        Assert.Null(NotificationPreference.Default.SuppressionReason("a", now));
        Assert.Equal(SuppressionReasons.UserDisabled, new NotificationPreference(false, null, []).SuppressionReason("a", now));
        Assert.Equal(SuppressionReasons.Paused, new NotificationPreference(true, now.AddMinutes(1), []).SuppressionReason("a", now));
        Assert.Null(new NotificationPreference(true, now.AddMinutes(-1), []).SuppressionReason("a", now));
        Assert.Equal(SuppressionReasons.OptedOut, new NotificationPreference(true, null, ["a"]).SuppressionReason("a", now));
    }
}
