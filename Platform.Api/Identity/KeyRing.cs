using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Platform.Api.Identity;

/// <summary>ASP.NET Core Data Protection's key ring in PostgreSQL (<c>identity.data_protection_keys</c>).</summary>
public sealed class KeyRingDb(DbContextOptions<KeyRingDb> options) : DbContext(options), IDataProtectionKeyContext
{
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        var key = modelBuilder.Entity<DataProtectionKey>();
        key.ToTable("data_protection_keys", "identity");
        key.Property(k => k.Id).HasColumnName("id");
        key.Property(k => k.FriendlyName).HasColumnName("friendly_name");
        key.Property(k => k.Xml).HasColumnName("xml");
    }
}

/// <summary>
/// One Data Protection key ring for every Api replica: the sign-in cookie, the antiforgery tokens and the federation
/// flow's cookie written by one replica are read by any other. The keys live in PostgreSQL (the data that must survive,
/// like everything else here); with <c>Platform:DataProtection:CertificatePem</c> and <c>PrivateKeyPem</c> (an RSA
/// certificate) they are encrypted at rest, so a database dump alone cannot forge or read a cookie.
/// </summary>
public static class KeyRing
{
    /// <summary>Keys are shared only between hosts of the same application name (not the content root's path).</summary>
    public const string ApplicationName = "platform-api";

    public static IServiceCollection AddSharedKeyRing(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddDbContext<KeyRingDb>((sp, o) => o.UseNpgsql(sp.GetRequiredService<NpgsqlDataSource>()));
        var protection = services.AddDataProtection().SetApplicationName(ApplicationName).PersistKeysToDbContext<KeyRingDb>();
        if (configuration["Platform:DataProtection:CertificatePem"] is { Length: > 0 } certificatePem)
        {
            var certificate = X509Certificate2.CreateFromPem(certificatePem, configuration["Platform:DataProtection:PrivateKeyPem"]
                ?? throw new InvalidOperationException("Platform:DataProtection:PrivateKeyPem is required with CertificatePem."));
            // Read with this certificate itself, not through a machine's certificate store (containers have none).
            protection.ProtectKeysWithCertificate(certificate).UnprotectKeysWithAnyCertificate(certificate);
        }
        return services;
    }
}
