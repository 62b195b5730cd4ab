using System.Security.Cryptography;
using Aspire.Hosting.Publishing;

/// <summary>
/// The client-token key pair. Api alone receives the private key and mints tokens (ES256); the Realtime nodes receive
/// only its public half, so a compromised node cannot mint tokens for any tenant. The private key is generated on the
/// first run and persisted with the other secrets; the public key is derived from it whenever a node starts.
/// </summary>
internal static class TokenKeys
{
    public const string KeyId = "es1";

    public static IResourceBuilder<ParameterResource> AddTokenSigningKey(this IDistributedApplicationBuilder builder) =>
        builder.AddParameter("token-signing-key", new PrivateKeyDefault(), secret: true, persist: true);

    /// <summary>The private key, for the one service that mints tokens.</summary>
    public static IResourceBuilder<ProjectResource> WithTokenSigningKey(this IResourceBuilder<ProjectResource> service, IResourceBuilder<ParameterResource> key) =>
        service.WithEnvironment("Platform__Jwt__Keys__0__Id", KeyId)
            .WithEnvironment("Platform__Jwt__Keys__0__PrivateKey", key);

    /// <summary>Only the public half, for services that validate tokens.</summary>
    public static IResourceBuilder<ProjectResource> WithTokenValidationKey(this IResourceBuilder<ProjectResource> service, IResourceBuilder<ParameterResource> key) =>
        service.WithEnvironment("Platform__Jwt__Keys__0__Id", KeyId)
            .WithEnvironment(async context =>
            {
                var privatePem = await key.Resource.GetValueAsync(context.CancellationToken)
                    ?? throw new InvalidOperationException("The token signing key has no value.");
                using var ec = ECDsa.Create();
                ec.ImportFromPem(privatePem);
                context.EnvironmentVariables["Platform__Jwt__Keys__0__PublicKey"] = ec.ExportSubjectPublicKeyInfoPem();
            });

    /// <summary>A new P-256 private key (PKCS#8 PEM).</summary>
    private sealed class PrivateKeyDefault : ParameterDefault
    {
        public override string GetDefaultValue()
        {
            using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            return ec.ExportPkcs8PrivateKeyPem();
        }

        // A deployment supplies its own key; the manifest only says that one is needed.
        public override void WriteToManifest(ManifestPublishingContext context) { }
    }
}
