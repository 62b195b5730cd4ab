using System.Diagnostics;
using System.Net.Sockets;

namespace Platform.Tests.Infrastructure;

/// <summary>
/// Throwaway PostgreSQL and Redis servers started from the installed binaries, for tests that run without
/// servers given in the environment and for tests that must stop and restart a server themselves.
/// </summary>
public static class LocalServers
{
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    internal static string? FindExecutable(string name, params string[] extraDirs)
    {
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(extraDirs);
        return dirs.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
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
    internal static Process SpawnServer(string file, IEnumerable<string> args, string? runAsUser = null)
    {
        const string watchdog =
            "parent=$1; shift; \"$@\" & child=$!; " +
            "trap 'kill -TERM $child 2>/dev/null; wait $child; exit 0' TERM INT; " +
            "while kill -0 $parent 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 1; done; " +
            "kill -TERM $child 2>/dev/null; wait $child";
        var command = runAsUser is null ? new List<string> { file } : ["runuser", "-u", runAsUser, "--", file];
        return Spawn("/bin/sh", new[] { "-c", watchdog, "watchdog", Environment.ProcessId.ToString() }.Concat(command).Concat(args));
    }

    internal static Process Spawn(string file, IEnumerable<string> args, string? runAsUser = null)
    {
        var psi = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (runAsUser is not null)
        {
            psi.FileName = "runuser";
            psi.ArgumentList.Add("-u");
            psi.ArgumentList.Add(runAsUser);
            psi.ArgumentList.Add("--");
            psi.ArgumentList.Add(file);
        }
        else
        {
            psi.FileName = file;
        }
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
    private readonly string _dir;
    private readonly string _binDir;
    private readonly string? _runAs;
    private Process? _process;

    public int Port { get; }
    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Password=postgres;Database={database};Include Error Detail=true";

    private LocalPostgres(string dir, string binDir, string? runAs, int port)
    {
        _dir = dir;
        _binDir = binDir;
        _runAs = runAs;
        Port = port;
    }

    public static async Task<LocalPostgres> StartAsync()
    {
        var binDir = FindBinDir() ?? throw new InvalidOperationException(
            "PostgreSQL server binaries not found. Install them (Debian: apt-get install postgresql) " +
            "or set ConnectionStrings__platformdb to a server the tests may create databases on.");
        var dir = Path.Combine(Path.GetTempPath(), "platform-tests", "pg-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        // PostgreSQL refuses to run as root; under root the server runs as the 'postgres' account.
        var runAs = Environment.UserName == "root" ? "postgres" : null;
        if (runAs is not null)
        {
            await RunAsync("chown", ["-R", "postgres", dir]);
        }
        var initdb = LocalServers.Spawn(Path.Combine(binDir, "initdb"),
            ["-D", Path.Combine(dir, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"], runAs);
        await initdb.WaitForExitAsync();
        if (initdb.ExitCode != 0)
        {
            throw new InvalidOperationException($"initdb failed with exit code {initdb.ExitCode} in {dir}.");
        }
        var pg = new LocalPostgres(dir, binDir, runAs, LocalServers.FreePort());
        await pg.StartAgainAsync();
        return pg;
    }

    public async Task StartAgainAsync()
    {
        _process = LocalServers.SpawnServer(Path.Combine(_binDir, "postgres"),
        [
            "-D", Path.Combine(_dir, "data"), "-p", Port.ToString(), "-k", _dir, "-c", "listen_addresses=127.0.0.1",
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "max_connections=400", "-c", "shared_buffers=128MB",
        ], _runAs);
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

    private static string? FindBinDir()
    {
        var initdb = LocalServers.FindExecutable("initdb");
        if (initdb is not null)
        {
            return Path.GetDirectoryName(Path.GetFullPath(ResolveLink(initdb)));
        }
        return Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => d).Select(d => Path.Combine(d, "bin"))
                .FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")))
            : null;
    }

    private static string ResolveLink(string path) =>
        new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;

    private static async Task RunAsync(string file, string[] args)
    {
        var p = LocalServers.Spawn(file, args);
        await p.WaitForExitAsync();
    }
}

/// <summary>A Redis server on a free port, stoppable and restartable on the same port.</summary>
public sealed class LocalRedis : IAsyncDisposable
{
    private readonly string _binary;
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
        var binary = LocalServers.FindExecutable("redis-server", "/usr/bin", "/usr/local/bin") ?? throw new InvalidOperationException(
            "redis-server not found. Install it (Debian: apt-get install redis-server) " +
            "or set ConnectionStrings__redis to a Redis the tests may use.");
        var redis = new LocalRedis(binary, LocalServers.FreePort());
        await redis.StartAgainAsync();
        return redis;
    }

    public async Task StartAgainAsync()
    {
        _process = LocalServers.SpawnServer(_binary,
            ["--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"]);
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

    public async ValueTask DisposeAsync() => await StopAsync();
}
