using Npgsql;
using Platform.Core.Data;
using Platform.Core.Security;

namespace Platform.Core.DirectLine;

/// <summary>An uploaded file as the attachment URL serves it.</summary>
public sealed record DirectLineUpload(string Name, string ContentType, byte[] Content);

/// <summary>A file to store: its name, media type and bytes.</summary>
public sealed record UploadFile(string Name, string ContentType, byte[] Content);

/// <summary>Why files were not stored: the quota that they would exceed (bytes used and allowed).</summary>
public sealed record UploadRefusal(string Scope, long UsedBytes, long LimitBytes);

/// <summary>
/// Quotas and retention of Direct Line uploads (<c>Platform:DirectLine:Uploads</c>). A file counts against its
/// conversation's and its tenant's quota until it expires; expired files are not served and are deleted by the hourly
/// <c>directline.uploads-prune</c> job.
/// </summary>
public sealed class DirectLineUploadOptions
{
    public const string Section = "Platform:DirectLine:Uploads";
    /// <summary>Bytes all live files of one conversation may hold (default 64 MiB: sixteen full-size files).</summary>
    public long MaxBytesPerConversation { get; set; } = 64L * 1024 * 1024;
    /// <summary>Bytes all live files of one tenant may hold (default 2 GiB).</summary>
    public long MaxBytesPerTenant { get; set; } = 2L * 1024 * 1024 * 1024;
    /// <summary>How long a file is served after its upload (default 30 days).</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);
}

/// <summary>
/// What Direct Line needs beyond the activity log: uploaded files (PostgreSQL bytea, see 0090_directline.sql) with their
/// quotas, retention and erasure, per-channel allowed origins for browser clients, and which conversations a client has
/// started.
/// </summary>
public sealed class DirectLineStore(NpgsqlDataSource dataSource, DirectLineUploadOptions? uploadOptions = null)
{
    /// <summary>Largest file one upload part may carry.</summary>
    public const int MaxFileBytes = 4 * 1024 * 1024;

    public DirectLineUploadOptions UploadOptions { get; } = uploadOptions ?? new DirectLineUploadOptions();

    /// <summary>
    /// Stores the files of one upload, all or none, unless they would take the conversation or the tenant over its quota
    /// (checked and inserted under a per-tenant lock, so concurrent uploads cannot both squeeze under it).
    /// </summary>
    public async Task<(IReadOnlyList<string>? Ids, UploadRefusal? Refusal)> SaveUploadsAsync(Guid tenantId, Guid conversationId, string? uploadedBy,
        IReadOnlyList<UploadFile> files, CancellationToken ct = default)
    {
        var o = UploadOptions;
        long incoming = files.Sum(f => (long)f.Content.Length);
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended('directline-uploads:' || $1::text, 0))", conn, tx))
        {
            lockCmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            await lockCmd.ExecuteNonQueryAsync(ct);
        }
        long conversationBytes, tenantBytes;
        await using (var sum = new NpgsqlCommand("""
            SELECT coalesce(sum(size_bytes) FILTER (WHERE conversation_id = $2), 0)::bigint, coalesce(sum(size_bytes), 0)::bigint
              FROM core.directline_uploads WHERE tenant_id = $1 AND created_at > now() - $3
            """, conn, tx))
        {
            sum.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            sum.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conversationId });
            sum.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = o.Retention });
            await using var r = await sum.ExecuteReaderAsync(ct);
            await r.ReadAsync(ct);
            conversationBytes = r.GetInt64(0);
            tenantBytes = r.GetInt64(1);
        }
        if (conversationBytes + incoming > o.MaxBytesPerConversation)
        {
            return (null, new UploadRefusal("conversation", conversationBytes, o.MaxBytesPerConversation));
        }
        if (tenantBytes + incoming > o.MaxBytesPerTenant)
        {
            return (null, new UploadRefusal("tenant", tenantBytes, o.MaxBytesPerTenant));
        }
        var ids = new List<string>(files.Count);
        foreach (var file in files)
        {
            var id = Credentials.Generate("up_");
            await using var cmd = new NpgsqlCommand("""
                INSERT INTO core.directline_uploads (id, tenant_id, conversation_id, name, content_type, size_bytes, content, uploaded_by)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """, conn, tx);
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conversationId });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = file.Name });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = file.ContentType });
            cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = file.Content.Length });
            cmd.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = file.Content });
            cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)uploadedBy ?? DBNull.Value });
            await cmd.ExecuteNonQueryAsync(ct);
            ids.Add(id);
        }
        await tx.CommitAsync(ct);
        return (ids, null);
    }

    /// <summary>A live (unexpired) upload by its id.</summary>
    public async Task<DirectLineUpload?> FindUploadAsync(string id, CancellationToken ct = default)
    {
        // The download URL is the capability (256 random bits) and names no tenant: the lookup is cross-tenant by nature.
        await using var cmd = await dataSource.CreateSystemCommandAsync("upload fetched by its capability id",
            "SELECT name, content_type, content FROM core.directline_uploads WHERE id = $1 AND created_at > now() - $2", ct);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
        cmd.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = UploadOptions.Retention });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? new DirectLineUpload(r.GetString(0), r.GetString(1), r.GetFieldValue<byte[]>(2)) : null;
    }

    /// <summary>Erasure: deletes a conversation's files, or only those one user uploaded there. Returns how many went.</summary>
    public async Task<int> EraseUploadsAsync(Guid tenantId, Guid? conversationId, string? uploadedBy, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, """
            DELETE FROM core.directline_uploads
             WHERE tenant_id = $1 AND ($2::uuid IS NULL OR conversation_id = $2) AND ($3::text IS NULL OR uploaded_by = $3)
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)conversationId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)uploadedBy ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Deletes every file older than the retention; returns how many went.</summary>
    public async Task<int> PruneExpiredAsync(CancellationToken ct = default)
    {
        // Retention applies to every tenant's files at once.
        await using var cmd = await dataSource.CreateSystemCommandAsync("upload retention",
            "DELETE FROM core.directline_uploads WHERE created_at <= now() - $1", ct);
        cmd.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = UploadOptions.Retention });
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The origins a channel's browser clients may call from; empty means any origin.</summary>
    public async Task<string[]> AllowedOriginsAsync(Guid tenantId, Guid channelId, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, "SELECT allowed_origins FROM core.channels WHERE tenant_id = $1 AND id = $2", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = channelId });
        return await cmd.ExecuteScalarAsync(ct) as string[] ?? [];
    }

    /// <summary>Marks the conversation started by a Direct Line client; true the first time.</summary>
    public async Task<bool> MarkStartedAsync(Guid tenantId, Guid conversationId, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId,
            "INSERT INTO core.directline_conversations (conversation_id, tenant_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conversationId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }
}
