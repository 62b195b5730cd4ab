using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;

namespace Platform.Core.Data;

/// <summary>A row that belongs to one tenant. Every query over it is filtered by the current tenant.</summary>
public interface ITenantOwned
{
    Guid TenantId { get; }
}

/// <summary>
/// EF Core mapping of the platform's tables (the schema itself comes from the SQL migrations).
/// Modules add their mappings as <see cref="IEntityTypeConfiguration{TEntity}"/> classes next to their code.
/// </summary>
public sealed class PlatformDb(DbContextOptions<PlatformDb> options) : DbContext(options)
{
    /// <summary>
    /// The tenant whose rows this context sees. <see cref="Guid.Empty"/> (the default) sees no tenant-owned
    /// row at all, so forgetting to set it fails closed; cross-tenant work uses <c>IgnoreQueryFilters()</c>.
    /// </summary>
    public Guid TenantId { get; set; }

    /// <summary>
    /// Why this context works across tenants (null: it does not). Set, its connections get the database's system scope
    /// (<see cref="TenantScope.OpenSystemScopeAsync"/>); otherwise row-level security confines them to <see cref="TenantId"/>.
    /// </summary>
    public string? SystemScope { get; set; }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(PlatformDb).Assembly);

        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            if (typeof(ITenantOwned).IsAssignableFrom(entity.ClrType) && entity.BaseType is null)
            {
                // e => e.TenantId == this.TenantId, evaluated per query against the context instance.
                var e = Expression.Parameter(entity.ClrType, "e");
                var body = Expression.Equal(
                    Expression.Property(e, nameof(ITenantOwned.TenantId)),
                    Expression.Property(Expression.Constant(this), nameof(TenantId)));
                modelBuilder.Entity(entity.ClrType).HasQueryFilter(Expression.Lambda(body, e));
            }
        }
    }
}

public static class PlatformDbFactoryExtensions
{
    /// <summary>
    /// A context from the pool that sees <paramref name="tenantId"/>'s rows only (<see cref="Guid.Empty"/>: no
    /// tenant-owned row). Set on every use: a pooled context keeps what the previous user set.
    /// </summary>
    public static async Task<PlatformDb> CreateForTenantAsync(this IDbContextFactory<PlatformDb> factory, Guid tenantId, CancellationToken ct)
    {
        var db = await factory.CreateDbContextAsync(ct);
        db.TenantId = tenantId;
        db.SystemScope = null;
        return db;
    }

    /// <summary>
    /// A context whose connections see every tenant's rows in the database (the EF Core tenant filter still applies to
    /// <see cref="PlatformDb.TenantId"/>, <see cref="Guid.Empty"/> here). For operator work that is cross-tenant by nature;
    /// <paramref name="reason"/> says why (see <see cref="TenantScope.OpenSystemScopeAsync"/>).
    /// </summary>
    public static async Task<PlatformDb> CreateForSystemAsync(this IDbContextFactory<PlatformDb> factory, string reason, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        var db = await factory.CreateDbContextAsync(ct);
        db.TenantId = Guid.Empty;
        db.SystemScope = reason;
        return db;
    }
}

/// <summary>The tenant of the current request or job; set by authentication, read by data access.</summary>
public sealed class TenantContext
{
    public Guid TenantId { get; set; }

    /// <summary>
    /// Why this context works across tenants (null: it does not). Set, its connections get the database's system scope
    /// (<see cref="TenantScope.OpenSystemScopeAsync"/>); otherwise row-level security confines them to <see cref="TenantId"/>.
    /// </summary>
    public string? SystemScope { get; set; }

    public bool HasTenant => TenantId != Guid.Empty;
}
