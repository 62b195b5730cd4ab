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
        return db;
    }
}

/// <summary>The tenant of the current request or job; set by authentication, read by data access.</summary>
public sealed class TenantContext
{
    public Guid TenantId { get; set; }

    public bool HasTenant => TenantId != Guid.Empty;
}
