using Microsoft.EntityFrameworkCore;
using Platform.Core.Data;
using Platform.Core.Security;

namespace Platform.Core.Tenancy;

public sealed record Channel(Guid Id, string Name, string Status, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>
/// Channels of one tenant, each with one secret (stored hashed; rotating replaces it, so the old one stops at once).
/// EF Core over <c>core.channels</c>; every context is opened for the caller's tenant, so the tenant filter confines
/// each read and write to that tenant's channels.
/// </summary>
public sealed class Channels(IDbContextFactory<PlatformDb> contexts, Revocations revocations)
{
    public const int MaxNameLength = 200;

    public async Task<(Channel Channel, string Secret)> CreateAsync(Guid tenantId, string name, CancellationToken ct = default)
    {
        var secret = Credentials.Generate(Credentials.ChannelSecretPrefix);
        await using var db = await contexts.CreateForTenantAsync(tenantId, ct);
        var channel = new ChannelEntity { Id = Guid.CreateVersion7(), TenantId = tenantId, Name = name, SecretHash = Credentials.Hash(secret) };
        db.Add(channel);
        await db.SaveChangesAsync(ct);
        return (channel.ToChannel(), secret);
    }

    public async Task<IReadOnlyList<Channel>> ListAsync(Guid tenantId, int limit, Guid? after, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateForTenantAsync(tenantId, ct);
        var channels = db.Set<ChannelEntity>().AsQueryable();
        if (after is { } cursorId)
        {
            if (await channels.Where(c => c.Id == cursorId).Select(c => (DateTimeOffset?)c.CreatedAt).FirstOrDefaultAsync(ct) is not { } cursorAt)
            {
                return []; // not a channel of this tenant
            }
            channels = channels.Where(c => c.CreatedAt > cursorAt || (c.CreatedAt == cursorAt && c.Id.CompareTo(cursorId) > 0));
        }
        var page = await channels.OrderBy(c => c.CreatedAt).ThenBy(c => c.Id).Take(limit).ToListAsync(ct);
        return [.. page.Select(c => c.ToChannel())];
    }

    public async Task<Channel?> FindAsync(Guid tenantId, Guid id, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateForTenantAsync(tenantId, ct);
        return (await db.Set<ChannelEntity>().FirstOrDefaultAsync(c => c.Id == id, ct))?.ToChannel();
    }

    public async Task<Channel?> UpdateAsync(Guid tenantId, Guid id, string? name, string? status, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateForTenantAsync(tenantId, ct);
        var changed = await db.Set<ChannelEntity>().Where(c => c.Id == id).ExecuteUpdateAsync(s => s
            .SetProperty(c => c.Name, c => name ?? c.Name)
            .SetProperty(c => c.Status, c => status ?? c.Status)
            .SetProperty(c => c.UpdatedAt, _ => DateTimeOffset.UtcNow), ct);
        if (changed == 0)
        {
            return null;
        }
        if (status is not null)
        {
            await revocations.PublishAsync(Revocations.ChannelOf(id)); // live sockets of a deactivated channel close
        }
        return (await db.Set<ChannelEntity>().FirstAsync(c => c.Id == id, ct)).ToChannel();
    }

    /// <summary>Replaces the channel's secret; the old one fails from the next request on. Null when no such channel.</summary>
    public async Task<string?> RotateSecretAsync(Guid tenantId, Guid id, CancellationToken ct = default)
    {
        var secret = Credentials.Generate(Credentials.ChannelSecretPrefix);
        await using var db = await contexts.CreateForTenantAsync(tenantId, ct);
        var changed = await db.Set<ChannelEntity>().Where(c => c.Id == id).ExecuteUpdateAsync(s => s
            .SetProperty(c => c.SecretHash, Credentials.Hash(secret))
            .SetProperty(c => c.UpdatedAt, _ => DateTimeOffset.UtcNow), ct);
        if (changed != 1)
        {
            return null;
        }
        await revocations.PublishAsync(Revocations.ChannelOf(id)); // tokens minted with the old secret die
        return secret;
    }
}
