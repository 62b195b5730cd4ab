using System.Diagnostics;
using System.Net.Sockets;
using Platform.AppHost.Infrastructure;

namespace Platform.Tests.Infrastructure;

/// <summary>
/// Throwaway PostgreSQL and Redis servers started from the installed binaries, for tests that run without
/// servers given in the environment and for tests that must stop and restart a server themselves.
/// </summary>
public static class LocalServers
{
    /// <summary>
    /// A port that is free now, for a server a test starts later. Taken below the kernel's ephemeral range (32768 and
    /// up on Linux), where the port 0 trick would pick: every outgoing connection of the test run (PostgreSQL, Redis,
    /// HTTP) also takes its local port from that range, and one of them could take the port before the server binds.
    /// </summary>
    public static int FreePort()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var port = Random.Shared.Next(20000, 32768);
            try
            {
                using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, port);
                probe.Start();
                return port;
            }
            catch (SocketException)
            {
                // taken: try another
            }
        }
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    internal static async Task WaitForPortAsync(int port, TimeSpan timeout, Func<string> diagnostics)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }
        throw new InvalidOperationException($"Server on port {port} did not start within {timeout}. {diagnostics()}");
    }

    /// <summary>
    /// Starts a server that must not outlive the test run: a small shell watchdog ends it when this process
    /// disappears, even if the test host is killed without running its exit handlers.
    /// </summary>
    internal static Process SpawnServer(string file, IEnumerable<string> args)
    {
        const string watchdog =
            "parent=$1; shift; \"$@\" & child=$!; " +
            "trap 'kill -TERM $child 2>/dev/null; wait $child; exit 0' TERM INT; " +
            "while kill -0 $parent 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 1; done; " +
            "kill -TERM $child 2>/dev/null; wait $child";
        return Spawn("/bin/sh", new[] { "-c", watchdog, "watchdog", Environment.ProcessId.ToString(), file }.Concat(args));
    }

    internal static Process Spawn(string file, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo { FileName = file, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        var p = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {file}.");
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }
}

/// <summary>A PostgreSQL server in a temporary directory, stoppable and restartable on the same port.</summary>
public sealed class LocalPostgres : IAsyncDisposable
{
    private const string Password = "postgres";
    private readonly string _dir;
    private readonly string _binDir;
    private Process? _process;

    public int Port { get; }
    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Password={Password};Database={database};Include Error Detail=true";

    private LocalPostgres(string dir, string binDir, int port)
    {
        _dir = dir;
        _binDir = binDir;
        Port = port;
    }

    public static async Task<LocalPostgres> StartAsync()
    {
        var binDir = LocalServerCommands.PostgresBinDirectory();
        var dir = Path.Combine(Path.GetTempPath(), "platform-tests", "pg-" + Guid.NewGuid().ToString("N")[..8]);
        await LocalServerCommands.PrepareForPostgresAccountAsync(dir, CancellationToken.None);
        var passwordFile = Path.Combine(dir, "password");
        await File.WriteAllTextAsync(passwordFile, Password);
        var (command, args) = LocalServerCommands.AsPostgresAccount(Path.Combine(binDir, "initdb"),
            LocalServerCommands.InitDbArgs(Path.Combine(dir, "data"), passwordFile, durable: false));
        var output = "";
        if (await LocalServerCommands.RunAsync(command, args, CancellationToken.None, o => output = o) != 0)
        {
            throw new InvalidOperationException($"initdb failed in {dir}: {output}");
        }
        var pg = new LocalPostgres(dir, binDir, LocalServers.FreePort());
        await pg.StartAgainAsync();
        return pg;
    }

    /// <summary>
    /// Deletes the clusters of earlier test runs that were killed before they could clean up (their watchdog stopped
    /// the server, nothing deleted the files). A cluster counts as abandoned when no postmaster runs for it and it has
    /// not been touched for ten minutes, so a run that is still starting or running next to this one keeps its own.
    /// </summary>
    public static void RemoveAbandonedClusters()
    {
        var root = new DirectoryInfo(Path.Combine(Path.GetTempPath(), "platform-tests"));
        if (!root.Exists)
        {
            return;
        }
        foreach (var dir in root.EnumerateDirectories("pg-*"))
        {
            if (DateTime.UtcNow - dir.LastWriteTimeUtc < TimeSpan.FromMinutes(10) || PostmasterRuns(dir.FullName))
            {
                continue;
            }
            try
            {
                dir.Delete(recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    private static bool PostmasterRuns(string dir)
    {
        var pidFile = Path.Combine(dir, "data", "postmaster.pid");
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out var pid))
        {
            return false;
        }
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public async Task StartAgainAsync()
    {
        var (command, args) = LocalServerCommands.AsPostgresAccount(Path.Combine(_binDir, "postgres"),
            LocalServerCommands.PostgresArgs(Path.Combine(_dir, "data"), _dir, Port, durable: false));
        _process = LocalServers.SpawnServer(command, args);
        await LocalServers.WaitForPortAsync(Port, TimeSpan.FromSeconds(30), () => $"postgres exited: {_process.HasExited}");
        // Accepting TCP is not yet accepting queries; wait for a real answer.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await using var conn = new Npgsql.NpgsqlConnection(ConnectionString("postgres") + ";Pooling=false");
                await conn.OpenAsync();
                return;
            }
            catch (Npgsql.NpgsqlException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    public async Task StopAsync()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
        }
        // Make sure the postmaster (a child of runuser) is gone before anyone restarts on the same port.
        var pidFile = Path.Combine(_dir, "data", "postmaster.pid");
        if (File.Exists(pidFile) && int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out var pid))
        {
            try
            {
                var orphan = Process.GetProcessById(pid);
                orphan.Kill(entireProcessTree: true);
                await orphan.WaitForExitAsync();
            }
            catch (ArgumentException)
            {
                // already gone
            }
        }
        Npgsql.NpgsqlConnection.ClearAllPools();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>A Redis server on a free port, stoppable and restartable on the same port.</summary>
public sealed class LocalRedis : IAsyncDisposable
{
    private readonly string _binary;
    private string? _directory;
    private Process? _process;

    public int Port { get; }
    public string ConnectionString => $"127.0.0.1:{Port}";

    private LocalRedis(string binary, int port)
    {
        _binary = binary;
        Port = port;
    }

    public static async Task<LocalRedis> StartAsync()
    {
        var redis = new LocalRedis(LocalServerCommands.RedisServerBinary(), LocalServers.FreePort());
        await redis.StartAgainAsync();
        return redis;
    }

    public async Task StartAgainAsync()
    {
        _directory ??= Directory.CreateTempSubdirectory("platform-tests-redis-").FullName;
        var config = Path.Combine(_directory, "redis.conf");
        await File.WriteAllTextAsync(config, LocalServerCommands.RedisConfig(Port, _directory, password: null));
        _process = LocalServers.SpawnServer(_binary, [config]);
        await LocalServers.WaitForPortAsync(Port, TimeSpan.FromSeconds(20), () => $"redis-server exited: {_process.HasExited}");
    }

    public async Task StopAsync()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (_directory is not null)
        {
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}
