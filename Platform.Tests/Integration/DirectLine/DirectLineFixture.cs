using System.Diagnostics;
using System.Text.Json;
using Npgsql;
using Platform.Tests.Integration.Realtime;

namespace Platform.Tests.Integration.DirectLine;

/// <summary>
/// Api + two Realtime nodes, all on real loopback ports: Node's directlinejs and Chromium's Web Chat need
/// real sockets. The base fixture's Api runs in memory; a second Api replica on Kestrel (same database and
/// Redis) serves the real clients.
/// </summary>
public sealed class DirectLineFixture : RealtimeFixture
{
    private readonly int _apiPort = LocalServers.FreePort();
    private ApiFactory? _kestrelApi;

    public Uri ApiUri => new($"http://127.0.0.1:{_apiPort}");

    public string Domain => ApiUri + "v3/directline";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _kestrelApi = new ApiFactory(new Dictionary<string, string?>(Api.Settings));
        _kestrelApi.UseKestrel(_apiPort);
        _kestrelApi.StartServer();
    }

    public HttpClient Http(string? bearer = null)
    {
        var client = new HttpClient { BaseAddress = ApiUri };
        if (bearer is not null)
        {
            client.DefaultRequestHeaders.Authorization = new("Bearer", bearer);
        }
        return client;
    }

    public async Task SetAllowedOriginsAsync(Guid channelId, params string[] origins)
    {
        await using var conn = new NpgsqlConnection(Database);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("UPDATE core.channels SET allowed_origins = $1 WHERE id = $2", conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = origins });
        cmd.Parameters.Add(new NpgsqlParameter { Value = channelId });
        Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
    }

    public override async Task DisposeAsync()
    {
        if (_kestrelApi is not null)
        {
            await _kestrelApi.DisposeAsync();
        }
        await base.DisposeAsync();
    }
}

/// <summary>Runs a script of Platform.Tests/js under Node and returns the JSON report it prints last.</summary>
public static class NodeScripts
{
    private static readonly SemaphoreSlim InstallGate = new(1, 1);

    public static string Directory { get; } = FindJsDirectory();

    private static string FindJsDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "Platform.Tests", "js");
            if (File.Exists(Path.Combine(candidate, "package.json")))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException("Platform.Tests/js/package.json not found above " + AppContext.BaseDirectory);
    }

    /// <summary>./platform.sh test runs npm ci; a bare dotnet test does it here once.</summary>
    public static async Task EnsureInstalledAsync()
    {
        await InstallGate.WaitAsync();
        try
        {
            if (System.IO.Directory.Exists(Path.Combine(Directory, "node_modules", "botframework-directlinejs")))
            {
                return;
            }
            var (code, output, error) = await RunProcessAsync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], new Dictionary<string, string>(),
                TimeSpan.FromMinutes(10));
            Assert.True(code == 0, $"npm ci failed ({code}): {output}\n{error}");
        }
        finally
        {
            InstallGate.Release();
        }
    }

    public static async Task<JsonElement> RunAsync(string script, IDictionary<string, string> env, TimeSpan? timeout = null)
    {
        await EnsureInstalledAsync();
        var (code, output, error) = await RunProcessAsync("node", [script], env, timeout ?? TimeSpan.FromMinutes(2));
        var last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault(l => l.StartsWith('{'));
        Assert.True(code == 0 && last is not null, $"node {script} exited {code}.\nstdout: {output}\nstderr: {error}");
        return JsonDocument.Parse(last!).RootElement.Clone();
    }

    private static async Task<(int Code, string Output, string Error)> RunProcessAsync(string file, string[] args, IDictionary<string, string> env,
        TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = Directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        foreach (var (k, v) in env)
        {
            start.Environment[k] = v;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout}: {await stdout}\n{await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
