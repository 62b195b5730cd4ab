using Npgsql;

namespace Platform.Core.Civic;

/// <summary>
/// Runs a command whose text holds several statements as one <see cref="NpgsqlBatch"/> (one round trip, one implicit
/// transaction when no explicit one is open): PostgreSQL's extended protocol takes one statement per prepared command.
/// </summary>
public static class SqlStatements
{
    public static async Task<int> ExecuteAllAsync(this NpgsqlCommand cmd, NpgsqlDataSource? dataSource, CancellationToken ct)
    {
        var statements = cmd.CommandText.Split(";\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => s.TrimEnd(';')).Where(s => s.Length > 0).ToList();
        await using var batch = cmd.Connection is { } conn ? new NpgsqlBatch(conn, cmd.Transaction) : dataSource!.CreateBatch();
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
