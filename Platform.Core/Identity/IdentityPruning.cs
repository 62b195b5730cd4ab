using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using OpenIddict.Abstractions;
using Platform.Core.Data;
using Platform.Core.Jobs;

namespace Platform.Core.Identity;

/// <summary>The recurring clean-up of the identity tables (Worker, hourly).</summary>
public sealed record PruneIdentityArgs : IJobArgs
{
    public static string Kind => "identity.prune";
}

public sealed class PruneIdentityHandler(IdentityPruning pruning) : IJobHandler<PruneIdentityArgs>
{
    public Task HandleAsync(PruneIdentityArgs args, JobContext context) => pruning.PruneAsync(context.CancellationToken);
}

/// <summary>What one pruning run removed.</summary>
public sealed record IdentityPruned(long Tokens, long Authorizations, long SignInLinks);

/// <summary>
/// Removes what can no longer sign anyone in: OpenIddict's tokens and authorizations that are expired, redeemed, revoked
/// or otherwise invalid (its managers' <c>PruneAsync</c>, tenant by tenant so row-level security holds), once older than
/// <see cref="KeepTokensFor"/>; and sign-in links that were used or expired, once older than <see cref="KeepLinksFor"/>.
/// </summary>
public sealed partial class IdentityPruning(IServiceScopeFactory scopes, NpgsqlDataSource dataSource, ILogger<IdentityPruning> logger,
    TimeProvider? time = null)
{
    /// <summary>
    /// Longer than any token lives (refresh tokens: 30 days, but a redeemed or revoked one must stay findable only while a
    /// copy could still be presented, and it is refused without its row): two weeks, OpenIddict's own suggestion, keeps the
    /// rows long enough to investigate a reuse or a revocation.
    /// </summary>
    public static readonly TimeSpan KeepTokensFor = TimeSpan.FromDays(14);

    /// <summary>Longer than any per-address rate-limit window, which counts the rows of recent requests.</summary>
    public static readonly TimeSpan KeepLinksFor = TimeSpan.FromDays(1);

    private const string Reason = "identity pruning: expired and revoked tokens, authorizations and sign-in links of every tenant";

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public async Task<IdentityPruned> PruneAsync(CancellationToken ct)
    {
        var threshold = _time.GetUtcNow() - KeepTokensFor;
        var tenants = new List<Guid>();
        await using (var cmd = await dataSource.CreateSystemCommandAsync(Reason,
            "SELECT tenant_id FROM identity.tokens UNION SELECT tenant_id FROM identity.authorizations", ct))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                tenants.Add(r.GetGuid(0));
            }
        }
        long tokens = 0, authorizations = 0;
        foreach (var tenantId in tenants)
        {
            await using var scope = scopes.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<TenantContext>().TenantId = tenantId;
            tokens += await scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>().PruneAsync(threshold, ct);
            authorizations += await scope.ServiceProvider.GetRequiredService<IOpenIddictAuthorizationManager>().PruneAsync(threshold, ct);
        }
        long links;
        await using (var cmd = await dataSource.CreateSystemCommandAsync(Reason, """
            DELETE FROM identity.sign_in_links WHERE created_at < $1 AND (used_at IS NOT NULL OR expires_at < now())
            """, ct))
        {
            cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = _time.GetUtcNow() - KeepLinksFor });
            links = await cmd.ExecuteNonQueryAsync(ct);
        }
        var pruned = new IdentityPruned(tokens, authorizations, links);
        LogPruned(logger, pruned.Tokens, pruned.Authorizations, pruned.SignInLinks);
        return pruned;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Identity pruning removed {Tokens} tokens, {Authorizations} authorizations and {Links} sign-in links")]
    private static partial void LogPruned(ILogger logger, long tokens, long authorizations, long links);
}
