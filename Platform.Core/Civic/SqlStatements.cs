using Npgsql;

namespace Platform.Core.Civic;

/// <summary>
/// Runs a command whose text holds several statements as one <see cref="NpgsqlBatch"/> (one round trip, one implicit
/// transaction when no explicit one is open): PostgreSQL's extended protocol takes one statement per prepared command.
/// </summary>
public static class SqlStatements
{
    /// <param name="dataSource">The data source the command was created from; null for a command on an open connection.</param>
    public static async Task<int> ExecuteAllAsync(this NpgsqlCommand cmd, NpgsqlDataSource? dataSource, CancellationToken ct)
    {
        var statements = cmd.CommandText.Split(";\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => s.TrimEnd(';')).Where(s => s.Length > 0).ToList();
        // A command from a data source has no connection (and must not be asked for one): the caller says which it is.
        await using var batch = dataSource is null ? new NpgsqlBatch(cmd.Connection, cmd.Transaction) : dataSource.CreateBatch();
        foreach (var statement in statements)
        {
            var bc = new NpgsqlBatchCommand(statement);
            foreach (NpgsqlParameter p in cmd.Parameters)
            {
                bc.Parameters.Add(p.Clone());
            }
            batch.BatchCommands.Add(bc);
        }
        return await batch.ExecuteNonQueryAsync(ct);
    }
}
