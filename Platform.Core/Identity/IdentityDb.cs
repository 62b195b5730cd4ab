using System.Data.Common;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Npgsql;
using OpenIddict.EntityFrameworkCore.Models;
using Platform.Core.Data;

namespace Platform.Core.Identity;

/// <summary>A client application a tenant registered with its issuer (web or mobile app).</summary>
public sealed class IdentityClient : OpenIddictEntityFrameworkCoreApplication<Guid, IdentityAuthorization, IdentityToken>, ITenantOwned
{
    public Guid TenantId { get; set; }
}

/// <summary>One sign-in of a user into one client: every token issued for it dies with it (revocation, sign-out, reuse).</summary>
public sealed class IdentityAuthorization : OpenIddictEntityFrameworkCoreAuthorization<Guid, IdentityClient, IdentityToken>, ITenantOwned
{
    public Guid TenantId { get; set; }
}

public sealed class IdentityScope : OpenIddictEntityFrameworkCoreScope<Guid>, ITenantOwned
{
    public Guid TenantId { get; set; }
}

/// <summary>An issued authorization code, refresh token or access token, tracked for redemption and revocation.</summary>
public sealed class IdentityToken : OpenIddictEntityFrameworkCoreToken<Guid, IdentityClient, IdentityAuthorization>, ITenantOwned
{
    public Guid TenantId { get; set; }
}

/// <summary>
/// OpenIddict's stores on the <c>identity</c> schema, behind row-level security like every tenant table: the context
/// carries the tenant of the issuer being served (<see cref="TenantContext"/>, set from the <c>/t/{tenant}</c> path or
/// the caller's credential), its connections get that tenant's scope, and new rows get its id.
/// </summary>
public sealed class IdentityDb(DbContextOptions<IdentityDb> options, TenantContext tenant) : DbContext(options)
{
    public Guid TenantId => tenant.TenantId;

    public DbSet<IdentityClient> Clients => Set<IdentityClient>();
    public DbSet<IdentityAuthorization> Authorizations => Set<IdentityAuthorization>();
    public DbSet<IdentityToken> Tokens => Set<IdentityToken>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.UseOpenIddict<IdentityClient, IdentityAuthorization, IdentityScope, IdentityToken, Guid>();
        modelBuilder.Entity<IdentityClient>().ToTable("clients", "identity");
        modelBuilder.Entity<IdentityAuthorization>().ToTable("authorizations", "identity");
        modelBuilder.Entity<IdentityScope>().ToTable("scopes", "identity");
        modelBuilder.Entity<IdentityToken>().ToTable("tokens", "identity");
        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            foreach (var property in entity.GetProperties())
            {
                property.SetColumnName(SnakeCase(property.Name));
            }
            foreach (var index in entity.GetIndexes())
            {
                index.SetDatabaseName($"{entity.GetTableName()}_{string.Join("_", index.Properties.Select(p => SnakeCase(p.Name)))}");
            }
            foreach (var key in entity.GetKeys())
            {
                key.SetName($"{entity.GetTableName()}_{(key.IsPrimaryKey() ? "pkey" : string.Join("_", key.Properties.Select(p => SnakeCase(p.Name))) + "_key")}");
            }
            foreach (var fk in entity.GetForeignKeys())
            {
                fk.SetConstraintName($"{entity.GetTableName()}_{string.Join("_", fk.Properties.Select(p => SnakeCase(p.Name)))}_fkey");
            }
        }
    }

    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        StampTenant();
        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        StampTenant();
        return base.SaveChanges(acceptAllChangesOnSuccess);
    }

    private void StampTenant()
    {
        foreach (var entry in ChangeTracker.Entries<ITenantOwned>())
        {
            if (entry.State == EntityState.Added && entry.Entity.TenantId == Guid.Empty)
            {
                entry.Property(nameof(ITenantOwned.TenantId)).CurrentValue = TenantId;
            }
        }
    }

    private static string SnakeCase(string name)
    {
        var sb = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                sb.Append('_');
            }
            sb.Append(char.ToLowerInvariant(name[i]));
        }
        return sb.ToString();
    }
}

/// <summary>Gives every connection an <see cref="IdentityDb"/> opens the tenant scope of the issuer it serves (or none).</summary>
internal sealed class IdentityScopeInterceptor : DbConnectionInterceptor
{
    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken ct = default)
    {
        if (eventData.Context is IdentityDb db && connection is NpgsqlConnection npgsql)
        {
            await TenantScope.ApplyAsync(npgsql, db.TenantId == Guid.Empty ? "" : db.TenantId.ToString(), "", ct);
        }
    }

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        if (eventData.Context is IdentityDb db && connection is NpgsqlConnection npgsql)
        {
            TenantScope.ApplyAsync(npgsql, db.TenantId == Guid.Empty ? "" : db.TenantId.ToString(), "", CancellationToken.None)
                .GetAwaiter().GetResult();
        }
    }
}
