using Microsoft.EntityFrameworkCore;
using Platform.Core.Data;
using Platform.Core.Security;

namespace Platform.Core.Tenancy;

/// <summary>Status of a tenant or a channel. Inactive ones keep their data but every call on them is refused (403).</summary>
public static class ActivationStatus
{
    public const string Active = "active";
    public const string Inactive = "inactive";

    public static bool IsValid(string? status) => status is Active or Inactive;
}

public sealed record Tenant(Guid Id, string Name, string Status, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>A freshly issued tenant API key: <see cref="ApiKey"/> is shown this once and stored only as a hash.</summary>
public sealed record IssuedApiKey(Guid Id, string ApiKey);

/// <summary>Tenants and their API keys: the operator's side of tenancy (EF Core over <c>core.tenants</c>, <c>core.api_keys</c>).</summary>
/// <param name="apiKeys">The process's cache of resolved keys, where there is one (the Api): emptied before a change is answered.</param>
public sealed class Tenants(IDbContextFactory<PlatformDb> contexts, Revocations revocations, ApiKeyCache? apiKeys = null)
{
    public const int MaxNameLength = 200;

    /// <summary>Creates a tenant together with its first API key, in one transaction.</summary>
    public async Task<(Tenant Tenant, IssuedApiKey Key)> CreateAsync(string name, CancellationToken ct = default)
    {
        // The operator creates the tenant: there is no tenant scope yet to write its first key under.
        await using var db = await contexts.CreateForSystemAsync("operator creates a tenant with its first key", ct);
        var tenant = new TenantEntity { Id = Guid.CreateVersion7(), Name = name };
        db.Add(tenant);
        var key = NewKey(db, tenant.Id);
        await db.SaveChangesAsync(ct);
        return (tenant.ToTenant(), key);
    }

    /// <summary>Tenants in creation order, after the tenant <paramref name="after"/> (keyset paging).</summary>
    public async Task<IReadOnlyList<Tenant>> ListAsync(int limit, Guid? after, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateForTenantAsync(Guid.Empty, ct);
        var tenants = db.Set<TenantEntity>().AsQueryable();
        if (after is { } cursorId)
        {
            if (await tenants.Where(t => t.Id == cursorId).Select(t => (DateTimeOffset?)t.CreatedAt).FirstOrDefaultAsync(ct) is not { } cursorAt)
            {
                return []; // a cursor this API never handed out
            }
            tenants = tenants.Where(t => t.CreatedAt > cursorAt || (t.CreatedAt == cursorAt && t.Id.CompareTo(cursorId) > 0));
        }
        var page = await tenants.OrderBy(t => t.CreatedAt).ThenBy(t => t.Id).Take(limit).ToListAsync(ct);
        return [.. page.Select(t => t.ToTenant())];
    }

    public async Task<Tenant?> FindAsync(Guid id, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateForTenantAsync(Guid.Empty, ct);
        return (await db.Set<TenantEntity>().FirstOrDefaultAsync(t => t.Id == id, ct))?.ToTenant();
    }

    /// <summary>Changes name and/or status; null leaves a field as it is.</summary>
    public async Task<Tenant?> UpdateAsync(Guid id, string? name, string? status, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateForTenantAsync(Guid.Empty, ct);
        var changed = await db.Set<TenantEntity>().Where(t => t.Id == id).ExecuteUpdateAsync(s => s
            .SetProperty(t => t.Name, t => name ?? t.Name)
            .SetProperty(t => t.Status, t => status ?? t.Status)
            .SetProperty(t => t.UpdatedAt, _ => DateTimeOffset.UtcNow), ct);
        if (changed == 0)
        {
            return null;
        }
        if (status is not null)
        {
            apiKeys?.Invalidate();
            await revocations.PublishAsync(Revocations.Tenant(id)); // live sockets of a deactivated tenant close
        }
        return (await db.Set<TenantEntity>().FirstAsync(t => t.Id == id, ct)).ToTenant();
    }

    /// <summary>Adds an API key (keys live side by side, so rotation is: issue new, switch callers, revoke old).</summary>
    public async Task<IssuedApiKey?> IssueApiKeyAsync(Guid tenantId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateForTenantAsync(tenantId, ct);
        if (!await db.Set<TenantEntity>().AnyAsync(t => t.Id == tenantId, ct))
        {
            return null;
        }
        var key = NewKey(db, tenantId);
        await db.SaveChangesAsync(ct);
        return key;
    }

    /// <summary>Revokes a key at once (the next request with it is 401). False when the tenant has no such key.</summary>
    public async Task<bool> RevokeApiKeyAsync(Guid tenantId, Guid keyId, CancellationToken ct = default)
    {
        // The tenant filter confines the update to this tenant's keys.
        await using var db = await contexts.CreateForTenantAsync(tenantId, ct);
        if (await db.Set<ApiKeyEntity>().Where(k => k.Id == keyId).ExecuteUpdateAsync(s => s
            .SetProperty(k => k.RevokedAt, k => k.RevokedAt ?? DateTimeOffset.UtcNow), ct) != 1)
        {
            return false;
        }
        apiKeys?.Invalidate();
        await revocations.PublishAsync(Revocations.ApiKey(keyId)); // tokens it minted die, live sockets included
        return true;
    }

    private static IssuedApiKey NewKey(PlatformDb db, Guid tenantId)
    {
        var value = Credentials.Generate(Credentials.TenantKeyPrefix);
        var entity = new ApiKeyEntity { Id = Guid.CreateVersion7(), TenantId = tenantId, KeyHash = Credentials.Hash(value), Prefix = value[..10] };
        db.Add(entity);
        return new IssuedApiKey(entity.Id, value);
    }
}
