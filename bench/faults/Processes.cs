using System.Diagnostics;
using System.Globalization;

namespace Platform.Bench.Faults;

/// <summary>
/// A process of the running system as /proc shows it: enough to signal it and start it again exactly as it was
/// (command line, environment, working directory, user). The AppHost's DCP does not restart an executable that died,
/// so the benchmark plays the operator (or the supervisor) who does.
/// </summary>
public sealed record ServiceProcess(string Name, int Pid, string[] CommandLine, string[] Environment, string WorkingDirectory, int Uid)
{
    public static ServiceProcess Capture(string name, int pid)
    {
        string[] Nul(string file) => File.ReadAllText($"/proc/{pid}/{file}").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        var uidLine = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal));
        var uid = int.Parse(uidLine.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        var cwd = new DirectoryInfo($"/proc/{pid}/cwd").LinkTarget ?? "/";
        return new ServiceProcess(name, pid, Nul("cmdline"), Nul("environ"), cwd, uid);
    }

    public static bool Alive(int pid) => pid > 0 && Directory.Exists($"/proc/{pid}") &&
        !File.ReadLines($"/proc/{pid}/status").Any(l => l.StartsWith("State:", StringComparison.Ordinal) && l.Contains('Z', StringComparison.Ordinal));

    public static void Signal(int pid, string signal)
    {
        using var p = Process.Start(new ProcessStartInfo("kill", ["-s", signal, pid.ToString(CultureInfo.InvariantCulture)]))!;
        p.WaitForExit();
    }

    public async Task<bool> WaitExitAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Alive(Pid))
        {
            if (DateTime.UtcNow > deadline) return false;
            await Task.Delay(50);
        }
        return true;
    }

    /// <summary>Starts the captured command again in a session of its own (so it outlives this program), as its user,
    /// with its environment plus <paramref name="extraEnv"/>; output appended to <paramref name="log"/>.</summary>
    public int Restart(string log, IReadOnlyDictionary<string, string>? extraEnv = null)
    {
        var psi = new ProcessStartInfo("setsid") { UseShellExecute = false, WorkingDirectory = WorkingDirectory };
        psi.Environment.Clear();
        foreach (var e in Environment)
        {
            var i = e.IndexOf('=', StringComparison.Ordinal);
            if (i > 0) psi.Environment[e[..i]] = e[(i + 1)..];
        }
        foreach (var (k, v) in extraEnv ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        psi.ArgumentList.Add("bash");
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec \"$@\" >>\"$LOGFILE\" 2>&1 </dev/null");
        psi.ArgumentList.Add("bash");
        psi.Environment["LOGFILE"] = log;
        if (Uid != 0 && System.Environment.UserName == "root")
        {
            // The server ran as its own account (PostgreSQL refuses root): start it as that account again.
            var user = File.ReadLines("/etc/passwd").Select(l => l.Split(':')).First(f => f[2] == Uid.ToString(CultureInfo.InvariantCulture))[0];
            foreach (var a in new[] { "setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups", "--" }) psi.ArgumentList.Add(a);
        }
        foreach (var a in CommandLine) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        return p.Id; // setsid and bash exec in place (this program's children are no group leaders): the pid is the service's
    }
}

/// <summary>Finds the running system's processes: pid files of `./platform.sh start`, PostgreSQL's postmaster.pid, /proc.</summary>
public sealed class SystemProcesses(string stateDir)
{
    public string StateDir => stateDir;
    public string PidFile(string service) => Path.Combine(stateDir, "pids", service + ".pid");
    public string Log(string service) => Path.Combine(stateDir, "logs", $"faults-{service}.log");

    public int Service(string service) =>
        File.Exists(PidFile(service)) && int.TryParse(File.ReadAllText(PidFile(service)).Trim(), out var pid) ? pid : 0;

    public void Remember(string service, int pid) => File.WriteAllText(PidFile(service), pid.ToString(CultureInfo.InvariantCulture) + "\n");

    public int Postgres()
    {
        var file = Path.Combine(stateDir, "data", "postgres", "data", "postmaster.pid");
        return File.Exists(file) && int.TryParse(File.ReadLines(file).First().Trim(), out var pid) && ServiceProcess.Alive(pid) ? pid : 0;
    }

    /// <summary>redis-server rewrites its process title (to "redis-server host:port"), so it is found by its port.</summary>
    public int Redis(int port)
    {
        var conf = Path.Combine(stateDir, "data", "redis");
        var listen = ":" + port.ToString(CultureInfo.InvariantCulture);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var cmd = File.ReadAllText(Path.Combine(dir, "cmdline"));
                if (cmd.Contains("redis-server", StringComparison.Ordinal) && (cmd.Contains(conf, StringComparison.Ordinal) || cmd.Contains(listen, StringComparison.Ordinal))) return pid;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return 0;
    }

    /// <summary>Redis's command line as started (its title no longer shows it): the server binary and its config file.</summary>
    public string[] RedisCommand(ServiceProcess running)
    {
        var conf = Directory.EnumerateFiles(Path.Combine(stateDir, "data", "redis"), "*.conf").First();
        // By name: Debian's redis-server is a link to one binary that acts by the name it was started as.
        _ = running;
        return ["redis-server", conf];
    }
}
