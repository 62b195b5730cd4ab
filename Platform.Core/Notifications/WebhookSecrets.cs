using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Impact.Privacy;

namespace Platform.Core.Notifications;

/// <summary>
/// Webhook signing secrets at rest: <c>ops.webhook_endpoints.secret_enc</c>, sealed by <see cref="PiiVault.SealWebhookSecret"/>.
/// A secret signs every delivery, so it is encrypted (recoverable by Api and Worker, which hold the vault key), not hashed.
/// </summary>
public static partial class WebhookSecrets
{
    /// <summary>The secret a delivery signs with: the sealed one, or a plaintext one stored before sealing and not sealed yet.</summary>
    public static string Open(PiiVault vault, Guid endpointId, byte[]? sealedSecret, string? plaintext) =>
        sealedSecret is not null ? vault.OpenWebhookSecret(sealedSecret, endpointId)
        : plaintext ?? throw new InvalidOperationException($"Webhook endpoint {endpointId} has no secret.");

    /// <summary>
    /// Seals every secret still stored in plaintext (rows from before secrets were sealed) and empties the plaintext
    /// column, in one transaction; run by the Api at start-up after the migrations. Safe to run again and from several
    /// hosts at once (the rows are locked, and only rows still unsealed are touched). Without a vault key it does nothing.
    /// </summary>
    /// <returns>How many secrets were sealed.</returns>
    public static async Task<int> SealStoredAsync(NpgsqlDataSource db, PiiVault vault, ILogger logger, CancellationToken ct)
    {
        if (!vault.HasKey)
        {
            LogNoKey(logger);
            return 0;
        }
        await using var conn = await db.OpenSystemScopeAsync("start-up sealing of every tenant's plaintext webhook secrets", ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var ids = new List<Guid>();
        var sealedSecrets = new List<byte[]>();
        await using (var find = new NpgsqlCommand(
            "SELECT id, secret FROM ops.webhook_endpoints WHERE secret_enc IS NULL AND secret IS NOT NULL FOR UPDATE", conn, tx))
        await using (var r = await find.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                ids.Add(r.GetGuid(0));
                sealedSecrets.Add(vault.SealWebhookSecret(r.GetString(1), r.GetGuid(0)));
            }
        }
        if (ids.Count > 0)
        {
            await using var update = new NpgsqlCommand("""
                UPDATE ops.webhook_endpoints w SET secret_enc = s.enc, secret = NULL
                FROM unnest($1::uuid[], $2::bytea[]) AS s(id, enc) WHERE w.id = s.id AND w.secret_enc IS NULL
                """, conn, tx);
            update.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. ids] });
            update.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = [.. sealedSecrets] });
            await update.ExecuteNonQueryAsync(ct);
            LogSealed(logger, ids.Count);
        }
        await tx.CommitAsync(ct);
        return ids.Count;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sealed {Count} webhook signing secrets that were stored in plaintext")]
    private static partial void LogSealed(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Platform:Impact:MasterKey is not set: webhook signing secrets stored in plaintext stay so, and no webhook endpoint can be created")]
    private static partial void LogNoKey(ILogger logger);
}
