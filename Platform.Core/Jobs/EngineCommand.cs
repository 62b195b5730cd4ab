using Npgsql;

namespace Platform.Core.Jobs;

/// <summary>
/// A statement of the engine's own bookkeeping (claim, heartbeat, completion, failure, rescue). It commits with
/// <c>synchronous_commit = off</c>: the commit does not wait for the WAL flush, so a claim costs one round trip and
/// no disk wait. What a server crash could lose is the last fraction of a second of these writes, and each loss
/// only makes a job run again, which at-least-once delivery already allows. Enqueues keep the caller's durability.
/// </summary>
internal sealed class EngineCommand : IAsyncDisposable
{
    private readonly NpgsqlBatch _batch;

    public EngineCommand(NpgsqlDataSource db, string sql)
    {
        _batch = db.CreateBatch();
        // One batch is one implicit transaction, so the setting applies to the statement's own commit.
        _batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT set_config('synchronous_commit', 'off', true)"));
        Main = new NpgsqlBatchCommand(sql);
        _batch.BatchCommands.Add(Main);
    }

    public NpgsqlBatchCommand Main { get; }

    public NpgsqlParameterCollection Parameters => Main.Parameters;

    public void Add(NpgsqlBatchCommand next) => _batch.BatchCommands.Add(next);

    public async Task<NpgsqlDataReader> ExecuteReaderAsync(CancellationToken ct)
    {
        var reader = await _batch.ExecuteReaderAsync(ct);
        await reader.NextResultAsync(ct); // past the set_config row
        return reader;
    }

    public async Task<int> ExecuteNonQueryAsync(CancellationToken ct)
    {
        await _batch.ExecuteNonQueryAsync(ct);
        return Main.RecordsAffected;
    }

    public ValueTask DisposeAsync() => _batch.DisposeAsync();
}
