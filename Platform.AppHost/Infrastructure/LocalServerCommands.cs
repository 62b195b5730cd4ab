namespace Platform.AppHost.Infrastructure;

/// <summary>
/// How Platform runs PostgreSQL and Redis from the machine's own binaries when no container runtime answers.
/// The AppHost's executable resources and the test suite's throwaway servers both start them from here, so
/// there is one definition of binaries, accounts, flags and files.
/// </summary>
public static class LocalServerCommands
{
    /// <summary>PostgreSQL refuses to run as root; under root the server runs as this account.</summary>
    public const string PostgresAccount = "postgres";

    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>The newest installed PostgreSQL server's bin directory (Debian keeps it outside PATH).</summary>
    public static string PostgresBinDirectory()
    {
        var initdb = FindOnPath("initdb");
        if (initdb is not null)
        {
            return Path.GetDirectoryName(Path.GetFullPath(ResolveLink(initdb)))!;
        }
        var fromDebian = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
                .Select(d => Path.Combine(d, "bin"))
                .FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")))
            : null;
        return fromDebian ?? throw new InvalidOperationException(
            "PostgreSQL server binaries were not found. Install them (Debian: apt-get install postgresql; ./platform.sh does) " +
            "or run with a container runtime.");
    }

    public static string RedisServerBinary() =>
        FindOnPath("redis-server") ?? new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException(
            "redis-server was not found. Install it (Debian: apt-get install redis-server; ./platform.sh does) or run with a container runtime.");

    /// <summary>
    /// The Python interpreter that has Debian's aiosmtpd (python3-aiosmtpd), for a loopback SMTP server. Debian's own
    /// /usr/bin/python3, not whatever python3 is first on PATH: the package installs into its dist-packages.
    /// </summary>
    public static string AiosmtpdPython() =>
        Directory.Exists("/usr/lib/python3/dist-packages/aiosmtpd") && File.Exists("/usr/bin/python3")
            ? "/usr/bin/python3"
            : throw new InvalidOperationException(
                "aiosmtpd was not found. Install it (Debian: apt-get install python3-aiosmtpd; ./platform.sh does).");

    /// <summary>
    /// The command and arguments that run <paramref name="binary"/> as the PostgreSQL account when we are root.
    /// setpriv replaces itself with the program (no extra parent process), so signals reach the server directly.
    /// </summary>
    public static (string Command, List<string> Args) AsPostgresAccount(string binary, IEnumerable<string> args)
    {
        if (!IsRoot)
        {
            return (binary, [.. args]);
        }
        return ("setpriv", ["--reuid=" + PostgresAccount, "--regid=" + PostgresAccount, "--init-groups", "--", binary, .. args]);
    }

    /// <summary>
    /// initdb arguments: local (Unix socket) connections are trusted, for the operator and the start-up set-up;
    /// TCP connections need the password.
    /// </summary>
    public static List<string> InitDbArgs(string dataDirectory, string passwordFile, bool durable) =>
    [
        "-D", dataDirectory, "-U", "postgres", "-E", "UTF8", "--locale=C",
        "--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile=" + passwordFile,
        .. durable ? Array.Empty<string>() : ["--no-sync"],
    ];

    /// <summary>
    /// Server arguments. <paramref name="durable"/> false (tests) trades crash safety for speed.
    /// Listens on loopback only; the Unix socket lives in <paramref name="socketDirectory"/>.
    /// </summary>
    public static List<string> PostgresArgs(string dataDirectory, string socketDirectory, int port, bool durable)
    {
        List<string> args =
        [
            "-D", dataDirectory, "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-k", socketDirectory,
            "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=400", "-c", "shared_buffers=128MB",
        ];
        if (!durable)
        {
            args.AddRange(["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]);
        }
        return args;
    }

    /// <summary>redis.conf for a loopback-only server without persistence (Redis holds only what PostgreSQL can rebuild).</summary>
    public static string RedisConfig(int port, string directory, string? password) =>
        $"""
        port {port}
        bind 127.0.0.1
        protected-mode yes
        dir "{directory}"
        save ""
        appendonly no
        daemonize no
        {(password is null ? "" : "requirepass \"" + password + "\"")}
        """;

    /// <summary>
    /// Makes <paramref name="directory"/> usable by the PostgreSQL account: creates the account if the machine lacks
    /// it, hands the directory over and lets the account traverse its parents.
    /// </summary>
    public static async Task PrepareForPostgresAccountAsync(string directory, CancellationToken ct)
    {
        Directory.CreateDirectory(directory);
        if (!IsRoot)
        {
            return;
        }
        if (await RunAsync("id", ["-u", PostgresAccount], ct) != 0)
        {
            await RunAsync("useradd", ["--system", "--home-dir", "/var/lib/postgresql", "--shell", "/bin/false", PostgresAccount], ct);
        }
        await RunAsync("chown", ["-R", PostgresAccount, directory], ct);
        for (var p = Path.GetDirectoryName(Path.GetFullPath(directory)); !string.IsNullOrEmpty(p) && p != "/"; p = Path.GetDirectoryName(p))
        {
            var info = new DirectoryInfo(p);
            info.UnixFileMode |= UnixFileMode.OtherExecute;
        }
    }

    /// <summary>Runs a short command to completion and returns its exit code; its output is captured.</summary>
    public static async Task<int> RunAsync(string command, IEnumerable<string> args, CancellationToken ct, Action<string>? output = null)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(command)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var process = System.Diagnostics.Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {command}.");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        output?.Invoke((await stdout) + (await stderr));
        return process.ExitCode;
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    private static string ResolveLink(string path) =>
        new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
}
