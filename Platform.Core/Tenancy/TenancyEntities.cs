using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Platform.Core.Data;

namespace Platform.Core.Tenancy;

// Tenancy is entity-shaped (create, list, rename, (de)activate, revoke), so it is read and written through EF Core;
// the hot credential lookups on every request stay hand-written SQL (CredentialLookup).

/// <summary>A row of <c>core.tenants</c>.</summary>
public sealed class TenantEntity
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public string Status { get; set; } = ActivationStatus.Active;
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public Tenant ToTenant() => new(Id, Name, Status, CreatedAt, UpdatedAt);
}

/// <summary>A row of <c>core.api_keys</c>: the SHA-256 of a tenant API key; revoked keys stay for audit.</summary>
public sealed class ApiKeyEntity : ITenantOwned
{
    public Guid Id { get; set; }
    public Guid TenantId { get; set; }
    public string KeyHash { get; set; } = "";
    public string Prefix { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>A row of <c>core.channels</c>: one channel of a tenant with the hash of its one secret.</summary>
public sealed class ChannelEntity : ITenantOwned
{
    public Guid Id { get; set; }
    public Guid TenantId { get; set; }
    public string Name { get; set; } = "";
    public string Status { get; set; } = ActivationStatus.Active;
    public string SecretHash { get; set; } = "";
    public string[] AllowedOrigins { get; set; } = [];
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public Channel ToChannel() => new(Id, Name, Status, CreatedAt, UpdatedAt);
}

internal sealed class TenantEntityConfiguration : IEntityTypeConfiguration<TenantEntity>
{
    public void Configure(EntityTypeBuilder<TenantEntity> e)
    {
        e.ToTable("tenants", "core");
        e.Property(t => t.Id).HasColumnName("id");
        e.Property(t => t.Name).HasColumnName("name");
        e.Property(t => t.Status).HasColumnName("status");
        e.Property(t => t.CreatedAt).HasColumnName("created_at").HasDefaultValueSql("now()");
        e.Property(t => t.UpdatedAt).HasColumnName("updated_at").HasDefaultValueSql("now()");
    }
}

internal sealed class ApiKeyEntityConfiguration : IEntityTypeConfiguration<ApiKeyEntity>
{
    public void Configure(EntityTypeBuilder<ApiKeyEntity> e)
    {
        e.ToTable("api_keys", "core");
        e.Property(k => k.Id).HasColumnName("id");
        e.Property(k => k.TenantId).HasColumnName("tenant_id");
        // The foreign key tells EF Core to insert a new tenant before its first key in the same SaveChanges.
        e.HasOne<TenantEntity>().WithMany().HasForeignKey(k => k.TenantId);
        e.Property(k => k.KeyHash).HasColumnName("key_hash");
        e.Property(k => k.Prefix).HasColumnName("prefix");
        e.Property(k => k.CreatedAt).HasColumnName("created_at").HasDefaultValueSql("now()");
        e.Property(k => k.RevokedAt).HasColumnName("revoked_at");
    }
}

internal sealed class ChannelEntityConfiguration : IEntityTypeConfiguration<ChannelEntity>
{
    public void Configure(EntityTypeBuilder<ChannelEntity> e)
    {
        e.ToTable("channels", "core");
        e.Property(c => c.Id).HasColumnName("id");
        e.Property(c => c.TenantId).HasColumnName("tenant_id");
        e.HasOne<TenantEntity>().WithMany().HasForeignKey(c => c.TenantId);
        e.Property(c => c.Name).HasColumnName("name");
        e.Property(c => c.Status).HasColumnName("status");
        e.Property(c => c.SecretHash).HasColumnName("secret_hash");
        e.Property(c => c.AllowedOrigins).HasColumnName("allowed_origins");
        e.Property(c => c.CreatedAt).HasColumnName("created_at").HasDefaultValueSql("now()");
        e.Property(c => c.UpdatedAt).HasColumnName("updated_at").HasDefaultValueSql("now()");
    }
}
