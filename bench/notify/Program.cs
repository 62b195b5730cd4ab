// In-app notification latency: enqueue (producer commit) → frame on the user's WebSocket, at a steady rate to
// many connected users, through the real Workers (in-app relay) and real Realtime nodes (Redis backplane); then
// email throughput: a burst of email notifications sent by the Workers' send jobs to a loopback SMTP server.
// Usage (after `dotnet build -c Release Platform.sln`):
//   ConnectionStrings__platformdb="Host=…;Username=…" ConnectionStrings__redis="127.0.0.1:6379" \
//     dotnet run -c Release --project bench/notify [-- --smoke] [--users 1000] [--rate 100] [--seconds 30] [--nodes 2]
//       [--workers 2] [--emails 500]
// It creates a scratch database (dropped afterwards), starts the Workers, N Realtime processes and an aiosmtpd sink
// (Debian python3-aiosmtpd), mints user tokens itself (shared signing key), and produces through NotificationOutbox.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Jobs;
using Platform.Core.Notifications;
using Platform.Core.Security;

var smoke = args.Contains("--smoke");
var users = int.Parse(ArgValue("--users") ?? (smoke ? "100" : "1000"), CultureInfo.InvariantCulture);
var rate = double.Parse(ArgValue("--rate") ?? "100", CultureInfo.InvariantCulture);
var seconds = double.Parse(ArgValue("--seconds") ?? (smoke ? "3" : "30"), CultureInfo.InvariantCulture);
var nodeCount = int.Parse(ArgValue("--nodes") ?? "2", CultureInfo.InvariantCulture);
var workerCount = int.Parse(ArgValue("--workers") ?? "2", CultureInfo.InvariantCulture);
var emails = int.Parse(ArgValue("--emails") ?? (smoke ? "20" : "500"), CultureInfo.InvariantCulture);
var root = FindRepoRoot();
var outDir = ArgValue("--out") ?? Path.Combine(root, "bench", "results", smoke ? "raw" : "");

var server = Environment.GetEnvironmentVariable("ConnectionStrings__platformdb");
var redis = Environment.GetEnvironmentVariable("ConnectionStrings__redis");
if (string.IsNullOrWhiteSpace(server) || string.IsNullOrWhiteSpace(redis))
{
    Console.Error.WriteLine("Set ConnectionStrings__platformdb (a server where a scratch database may be created) and ConnectionStrings__redis.");
    return 2;
}

var admin = new NpgsqlConnectionStringBuilder(server) { Pooling = false }.ConnectionString;
var scratch = $"bench_notify_{Guid.NewGuid():N}"[..26];
await Exec(admin, $"CREATE DATABASE \"{scratch}\"");
var cs = new NpgsqlConnectionStringBuilder(server) { Database = scratch, MaxPoolSize = 50 }.ConnectionString;
var signingKey = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
var processes = new List<Process>();
try
{
    await using var db = NpgsqlDataSource.Create(cs);
    // What Api does at start-up as the owner: the migrations AND the job storage's tables. Without the latter the
    // Workers' Hangfire servers and outbox relay fail on every round (relation "hangfire.…" does not exist), so no
    // fan-out or send job ever runs: the in-app relay needs no job, email does.
    await new DatabaseSetup(db, NullLogger.Instance).RunAsync(cs, new JobWorkerOptions().Schema, CancellationToken.None);
    var tenant = Guid.NewGuid();
    await using (var cmd = db.CreateCommand("INSERT INTO core.tenants (id, name) VALUES ($1, 'bench')"))
    {
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenant });
        await cmd.ExecuteNonQueryAsync();
    }

    var env = new Dictionary<string, string>
    {
        ["ConnectionStrings__platformdb"] = cs,
        ["ConnectionStrings__redis"] = redis,
        ["Platform__Jwt__SigningKey"] = signingKey,
        ["Platform__OperatorKey"] = "op_bench_" + signingKey,
        ["Logging__LogLevel__Default"] = "Warning",
        ["Platform__Jobs__Queues__default"] = "32",
        ["Platform__Notifications__Email__UnsubscribeKey"] = "bench-" + signingKey,
    };
    // A sink SMTP server on loopback: accepts every message and keeps nothing.
    var smtpPort = FreePort();
    // Debian's own interpreter: python3-aiosmtpd installs into its dist-packages, not into whatever python3 is on PATH.
    var python = Directory.Exists("/usr/lib/python3/dist-packages/aiosmtpd") && File.Exists("/usr/bin/python3") ? "/usr/bin/python3"
        : throw new InvalidOperationException("aiosmtpd was not found. Install it (Debian: apt-get install python3-aiosmtpd; ./platform.sh does).");
    var smtp = Process.Start(new ProcessStartInfo(python, ["-m", "aiosmtpd", "-n", "-l", $"127.0.0.1:{smtpPort}", "-c", "aiosmtpd.handlers.Sink"])
    { RedirectStandardOutput = true, RedirectStandardError = true })!;
    processes.Add(smtp);
    env["ConnectionStrings__smtp"] = $"Endpoint=smtp://127.0.0.1:{smtpPort};Security=None;From=bench@example.org";
    var nodes = new List<Uri>();
    for (var i = 0; i < nodeCount; i++)
    {
        var port = FreePort();
        nodes.Add(new Uri($"http://127.0.0.1:{port}"));
        processes.Add(Start("Platform.Realtime", env, $"http://127.0.0.1:{port}"));
    }
    // The Workers start together, as a deployment starts them; one that exits at start-up ends the run.
    var workers = Enumerable.Range(0, workerCount).Select(_ => new Uri($"http://127.0.0.1:{FreePort()}"))
        .Select(uri => (Uri: uri, Process: Start("Platform.Worker", env, uri.ToString()))).ToList();
    processes.AddRange(workers.Select(w => w.Process));
    foreach (var (uri, worker) in workers)
    {
        if (!await WaitHealthyAsync(uri, worker))
        {
            throw new InvalidOperationException($"A Worker exited at start-up (code {worker.ExitCode}); its log is above.");
        }
    }
    foreach (var node in nodes)
    {
        await WaitHealthyAsync(node);
    }

    var tokens = new ClientTokens(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Platform:Jwt:SigningKey"] = signingKey }).Build());
    var received = new ConcurrentDictionary<long, long>(); // outbox id → receive timestamp (Stopwatch ticks)
    var committed = new ConcurrentDictionary<long, long>();
    var duplicates = 0;
    using var stop = new CancellationTokenSource();
    Console.WriteLine($"Notify benchmark ({(smoke ? "smoke" : "full")}): {users} users on {nodeCount} Realtime nodes, {workerCount} Workers, {rate}/s for {seconds} s, then {emails} emails");

    var sockets = new List<ClientWebSocket>();
    var readers = new List<Task>();
    var connectWatch = Stopwatch.StartNew();
    for (var u = 0; u < users; u++)
    {
        var token = tokens.Issue(tenant, $"user-{u}", null, TimeSpan.FromHours(1), ["member"]);
        var node = nodes[u % nodes.Count];
        var ws = new ClientWebSocket();
        await ws.ConnectAsync(new Uri($"ws://{node.Authority}/v1/stream?token={Uri.EscapeDataString(token)}"), CancellationToken.None);
        var first = new TaskCompletionSource();
        readers.Add(ReadAsync(ws, first, received, () => Interlocked.Increment(ref duplicates), stop.Token));
        await first.Task.WaitAsync(TimeSpan.FromSeconds(30));
        sockets.Add(ws);
    }
    Console.WriteLine($"  {users} streams live in {connectWatch.Elapsed.TotalSeconds:F1} s");

    var outbox = new NotificationOutbox(new JobQueue(db));
    var total = (int)(rate * seconds);
    var interval = TimeSpan.FromSeconds(1 / rate);
    var clock = Stopwatch.StartNew();
    var producers = new List<Task>();
    var random = new Random(42);
    for (var i = 0; i < total; i++)
    {
        var due = interval * i;
        var wait = due - clock.Elapsed;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }
        var user = random.Next(users);
        var n = i;
        producers.Add(Task.Run(async () =>
        {
            var payload = JsonSerializer.SerializeToElement(new Dictionary<string, object> { ["title"] = $"bench {n}" });
            var result = await outbox.EnqueueAsync(db, new Notification(tenant, $"user-{user}", $"subject-{n}", "bench.ping", payload, NotificationChannels.InApp));
            committed[result.OutboxId] = Stopwatch.GetTimestamp();
        }));
    }
    await Task.WhenAll(producers);
    var offeredRate = total / clock.Elapsed.TotalSeconds;
    // Wait for stragglers with a deadline: whatever has not arrived by then counts as not delivered within any bound.
    var deadline = Stopwatch.StartNew();
    while (received.Count(r => committed.ContainsKey(r.Key)) < total && deadline.Elapsed < TimeSpan.FromSeconds(15))
    {
        await Task.Delay(100);
    }
    await stop.CancelAsync();

    var latencies = committed.Select(c => received.TryGetValue(c.Key, out var at) ? Stopwatch.GetElapsedTime(c.Value, at).TotalMilliseconds : double.PositiveInfinity)
        .OrderBy(x => x).ToArray();
    // Percentiles over all notifications: an undelivered one counts as infinitely late and is written as null.
    double? P(double q) => latencies.Length == 0 ? null
        : latencies[Math.Clamp((int)Math.Ceiling(q * latencies.Length) - 1, 0, latencies.Length - 1)] is var v && double.IsFinite(v) ? Math.Round(v, 1) : null;
    // --seconds 0 runs the email part alone (no in-app shares then).
    var within100 = latencies.Length == 0 ? 0 : latencies.Count(l => l <= 100) / (double)latencies.Length;
    var within500 = latencies.Length == 0 ? 0 : latencies.Count(l => l <= 500) / (double)latencies.Length;
    var delivered = latencies.Count(double.IsFinite);
    var loadDuringInApp = LoadAverage();

    // Email throughput: a burst of email-only notifications to people with a confirmed address, each a send job that opens
    // one SMTP connection; measured from the first commit until every delivery is final.
    await using (var conn = await db.OpenConnectionAsync())
    await using (var insert = new NpgsqlCommand("""
        INSERT INTO ops.notification_profiles (tenant_id, user_id, email, email_verified_at)
        SELECT $1, 'mail-' || i, 'mail-' || i || '@example.org', now() FROM generate_series(0, $2 - 1) i
        """, conn))
    {
        insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenant });
        insert.Parameters.Add(new NpgsqlParameter<int> { TypedValue = emails });
        await insert.ExecuteNonQueryAsync();
    }
    var emailClock = Stopwatch.StartNew();
    await Parallel.ForEachAsync(Enumerable.Range(0, emails), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
    {
        var payload = JsonSerializer.SerializeToElement(new Dictionary<string, object> { ["title"] = $"bench mail {i}", ["body"] = "A benchmark message." });
        await outbox.EnqueueAsync(db, new Notification(tenant, $"mail-{i}", $"mail-{i}", "bench.mail", payload, NotificationChannels.Email), ct);
    });
    long emailSent = 0, emailOther = 0;
    var emailDeadline = TimeSpan.FromSeconds(smoke ? 60 : 300);
    while (emailClock.Elapsed < emailDeadline)
    {
        await using var count = db.CreateCommand(
            "SELECT count(*) FILTER (WHERE state = 'sent'), count(*) FILTER (WHERE state IN ('failed', 'suppressed')) FROM ops.notification_deliveries WHERE channel = 'email'");
        await using var r = await count.ExecuteReaderAsync();
        await r.ReadAsync();
        (emailSent, emailOther) = (r.GetInt64(0), r.GetInt64(1));
        if (emailSent + emailOther >= emails)
        {
            break;
        }
        await Task.Delay(100);
    }
    var emailSeconds = emailClock.Elapsed.TotalSeconds;
    var result = new
    {
        scenario = "notify",
        benchmark = "notify",
        mode = smoke ? "smoke" : "full",
        users,
        realtimeNodes = nodeCount,
        targetRate = rate,
        offeredRate = Math.Round(offeredRate, 1),
        workers = workerCount,
        notifications = total,
        delivered,
        lost = total - delivered,
        duplicates,
        shareWithin100ms = Math.Round(within100, 4),
        shareWithin500ms = Math.Round(within500, 4),
        p50Ms = P(0.50),
        p95Ms = P(0.95),
        p99Ms = P(0.99),
        maxMs = P(1.0),
        email = new { notifications = emails, sent = emailSent, failedOrSuppressed = emailOther, seconds = Math.Round(emailSeconds, 1),
            perSecond = Math.Round(emailSent / emailSeconds, 1) },
        machine = new { cores = Environment.ProcessorCount, loadAverage = loadDuringInApp, loadAverageAfterEmail = LoadAverage() },
        startedAt = DateTimeOffset.UtcNow,
        // The shape bench/run.sh validates for every scenario.
        results = new { shareWithin100ms = Math.Round(within100, 4), shareWithin500ms = Math.Round(within500, 4), p50Ms = P(0.50), p99Ms = P(0.99),
            emailsPerSecond = Math.Round(emailSent / emailSeconds, 1) },
    };
    var json = JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true });
    Console.WriteLine(json);
    Directory.CreateDirectory(outDir);
    await File.WriteAllTextAsync(Path.Combine(outDir, "notify.json"), json + "\n");
    await File.WriteAllTextAsync(Path.Combine(outDir, "notify.md"), $"""
        # notify: in-app delivery latency (enqueue → frame)

        {result.users} connected users (user-scoped streams) on {result.realtimeNodes} Realtime nodes, {result.workers} Workers (in-app relays),
        producers calling `NotificationOutbox.EnqueueAsync` at {result.targetRate}/s (offered {result.offeredRate}/s) for {result.notifications}
        notifications, each to a random user. Latency is measured in one process from the producer's commit to the frame arriving on the
        user's WebSocket; a notification not received within 15 s of the last commit is lost.

        | within 100 ms | within 500 ms | p50 | p95 | p99 | max | delivered | lost | duplicates |
        |---|---|---|---|---|---|---|---|---|
        | {result.shareWithin100ms:P2} | {result.shareWithin500ms:P2} | {result.p50Ms} ms | {result.p95Ms} ms | {result.p99Ms} ms | {result.maxMs} ms | {result.delivered}/{result.notifications} | {result.lost} | {result.duplicates} |

        Email: {result.email.notifications} email notifications committed at once, sent by the Workers' send jobs (one SMTP connection each) to
        an aiosmtpd sink on loopback: {result.email.sent} sent, {result.email.failedOrSuppressed} failed or suppressed, in {result.email.seconds} s
        = **{result.email.perSecond} emails/s** (commit of the first → the last delivery final).

        Machine: {result.machine.cores} cores, load average {result.machine.loadAverage} during the in-app run, {result.machine.loadAverageAfterEmail}
        after the email run (shared with other work while it ran).
        Mode: {result.mode}. Run at {result.startedAt:u}.
        """ + "\n");
    foreach (var ws in sockets)
    {
        ws.Abort();
    }
    // A run that measured is a success; whether it met the target is in the report, not the exit code.
    return 0;
}
finally
{
    foreach (var p in processes)
    {
        try
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
        }
    }
    NpgsqlConnection.ClearAllPools();
    await Exec(admin, $"DROP DATABASE IF EXISTS \"{scratch}\" WITH (FORCE)");
}

static async Task ReadAsync(ClientWebSocket ws, TaskCompletionSource first, ConcurrentDictionary<long, long> received, Action duplicate, CancellationToken ct)
{
    var buffer = new byte[16 * 1024];
    try
    {
        while (!ct.IsCancellationRequested)
        {
            using var message = new MemoryStream();
            WebSocketReceiveResult r;
            do
            {
                r = await ws.ReceiveAsync(buffer, ct);
                if (r.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
                message.Write(buffer, 0, r.Count);
            }
            while (!r.EndOfMessage);
            var at = Stopwatch.GetTimestamp();
            using var doc = JsonDocument.Parse(message.ToArray());
            foreach (var n in doc.RootElement.GetProperty("notifications").EnumerateArray())
            {
                if (!received.TryAdd(n.GetProperty("id").GetInt64(), at))
                {
                    duplicate();
                }
            }
            first.TrySetResult();
        }
    }
    catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
    {
    }
}

Process Start(string project, Dictionary<string, string> env, string url)
{
    // The newest build: Release when bench/run.sh has just built it, Debug for the CI smoke after ./platform.sh test.
    var dll = new[] { "Release", "Debug" }.Select(c => Path.Combine(root, project, "bin", c, "net10.0", $"{project}.dll")).Where(File.Exists)
        .OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault()
        ?? throw new InvalidOperationException($"{project}.dll is missing: run `dotnet build -c Release Platform.Local.slnf` first.");
    var info = new ProcessStartInfo("dotnet", [dll, "--urls", url]) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(dll)! };
    foreach (var (k, v) in env)
    {
        info.Environment[k] = v;
    }
    info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
    var process = Process.Start(info)!;
    // The services log to stdout (warnings and worse, set above): shown, so a failing Worker is visible in the run.
    process.OutputDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"[{project}] {e.Data}"); };
    process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"[{project}] {e.Data}"); };
    process.BeginOutputReadLine();
    process.BeginErrorReadLine();
    return process;
}

static async Task<bool> WaitHealthyAsync(Uri node, Process? process = null)
{
    using var http = new HttpClient();
    var deadline = Stopwatch.StartNew();
    while (deadline.Elapsed < TimeSpan.FromSeconds(120))
    {
        if (process is { HasExited: true })
        {
            return false;
        }
        try
        {
            if ((await http.GetAsync(new Uri(node, "/health"))).StatusCode == HttpStatusCode.OK)
            {
                return true;
            }
        }
        catch (HttpRequestException)
        {
        }
        await Task.Delay(200);
    }
    throw new TimeoutException($"{node} did not become healthy within 120 s.");
}

static int FreePort()
{
    using var l = new TcpListener(IPAddress.Loopback, 0);
    l.Start();
    return ((IPEndPoint)l.LocalEndpoint).Port;
}

static async Task Exec(string connectionString, string sql)
{
    await using var c = new NpgsqlConnection(connectionString);
    await c.OpenAsync();
    await using var cmd = new NpgsqlCommand(sql, c);
    await cmd.ExecuteNonQueryAsync();
}

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

static string FindRepoRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Platform.sln")))
    {
        dir = dir.Parent;
    }
    return dir?.FullName ?? Directory.GetCurrentDirectory();
}

string? ArgValue(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
