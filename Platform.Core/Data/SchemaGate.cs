using Npgsql;

namespace Platform.Core.Data;

/// <summary>
/// Lets a service wait until the database carries the schema this build was compiled with
/// (<see cref="MigrationCatalog.LatestVersion"/>). Api applies the migrations; everyone else waits here.
/// </summary>
public sealed class SchemaGate(NpgsqlDataSource dataSource)
{
    private volatile bool _ready;

    public bool IsReady => _ready;

    public async Task<bool> CheckAsync(CancellationToken ct = default)
    {
        if (_ready)
        {
            return true;
        }
        _ready = await MigrationRunner.CurrentVersionAsync(dataSource, ct) >= MigrationCatalog.LatestVersion;
        return _ready;
    }

    public async Task WaitAsync(CancellationToken ct)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            try
            {
                if (await CheckAsync(ct))
                {
                    return;
                }
            }
            catch (NpgsqlException)
            {
                // Database not reachable yet: keep waiting.
            }
            await Task.Delay(delay, ct);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 2000));
        }
    }
}
