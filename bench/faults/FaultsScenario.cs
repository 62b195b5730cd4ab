using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Bench.Load;

namespace Platform.Bench.Faults;

/// <summary>One POST: its clientActivityId, the step whose time it was first sent in, its attempts and outcome.</summary>
public sealed class Post(long n, int conversation, string step)
{
    public readonly long N = n;
    public readonly int Conversation = conversation;
    public readonly string Step = step;
    public string ClientActivityId => $"faults-{N}";
    public readonly long SentAt = Clock.Now;
    public long AckedAt;
    public int Attempts;
    public int FailedAttempts;
    public long Seq = -1;
    public string? LastError;
}

/// <summary>
/// A stream client that keeps reconnecting (to the next node when one refuses) with the highest seq it has as
/// watermark, recording every seq in arrival order over all its connections.
/// </summary>
public sealed class ResilientClient(int index, int conversation, string pathAndQuery, string[] nodes)
{
    public readonly int Index = index;
    public readonly int Conversation = conversation;
    public readonly List<long> Seqs = [];
    public readonly ConcurrentQueue<string> Errors = new();
    public int Reconnects;
    public volatile bool Open;
    public long MaxSeq;
    private int _node = index % nodes.Length;

    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            using var ws = new ClientWebSocket();
            ws.Options.KeepAliveInterval = TimeSpan.FromSeconds(15);
            var url = new Uri(nodes[_node].TrimEnd('/') + pathAndQuery + (MaxSeq > 0 ? $"&watermark={MaxSeq}" : ""));
            try
            {
                using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
                connectTimeout.CancelAfter(TimeSpan.FromSeconds(10));
                await ws.ConnectAsync(url, connectTimeout.Token);
                Open = true;
                await ReceiveAsync(ws, stop);
                if (ws.CloseStatus is { } status) Errors.Enqueue($"closed {(int)status}");
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or HttpRequestException or IOException)
            {
                Errors.Enqueue(e.GetBaseException().Message);
            }
            Open = false;
            if (stop.IsCancellationRequested) break;
            // The next node: the one this client was on may be the one that died.
            _node = (_node + 1) % nodes.Length;
            Interlocked.Increment(ref Reconnects);
            await Task.Delay(TimeSpan.FromMilliseconds(200 + Random.Shared.Next(300)), CancellationToken.None);
        }
        Open = false;
    }

    private async Task ReceiveAsync(ClientWebSocket ws, CancellationToken stop)
    {
        var buffer = new byte[16384];
        var message = new MemoryStream();
        while (ws.State == WebSocketState.Open)
        {
            message.SetLength(0);
            WebSocketReceiveResult r;
            do
            {
                r = await ws.ReceiveAsync(buffer, stop);
                if (r.MessageType == WebSocketMessageType.Close) return;
                message.Write(buffer, 0, r.Count);
            } while (!r.EndOfMessage);
            using var doc = JsonDocument.Parse(message.ToArray());
            if (!doc.RootElement.TryGetProperty("activities", out var activities) || activities.ValueKind != JsonValueKind.Array) continue;
            lock (Seqs)
            {
                foreach (var act in activities.EnumerateArray())
                {
                    if (act.TryGetProperty("seq", out var s) && s.ValueKind == JsonValueKind.Number)
                    {
                        var seq = s.GetInt64();
                        Seqs.Add(seq);
                        if (seq > MaxSeq) MaxSeq = seq;
                    }
                }
            }
        }
    }
}

/// <summary>One fault: what it does, when it began, and the recovery moments seen.</summary>
public sealed class Step(string name, string description)
{
    public readonly string Name = name;
    public readonly string Description = description;
    public long InjectedAt;
    public double? ServiceHealthyAfterS;
    public double? PostsRecoveredAfterS;
    public double? ClientsReconnectedAfterS;
    public string? Skipped;
    public readonly JsonObject Extra = [];
}

public static class FaultsScenario
{
    private static void Log(string s) => Console.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {s}");

    public static async Task<int> RunAsync(Args a)
    {
        var smoke = a.Has("smoke");
        var rep = new Report("faults", smoke, a);
        var clientsN = a.Int("clients", smoke ? 40 : 1000);
        var conversationsN = a.Int("conversations", smoke ? 8 : 100);
        var rate = a.Dbl("rate", smoke ? 20 : 200);
        // The smoke run (CI) keeps every step and check but shortens the waits and outages around them.
        var settle = TimeSpan.FromSeconds(a.Int("settle-seconds", smoke ? 1 : 10));
        var redisDown = TimeSpan.FromSeconds(a.Int("redis-down-seconds", smoke ? 3 : 30));
        var meetings = a.Int("meetings", smoke ? 2 : 12);
        var maxBackoffMs = smoke ? 2000 : 5000;
        var runStarted = Clock.Now;
        var subscribers = a.Int("subscribers", smoke ? 5 : 50);
        var state = Path.GetFullPath(a.Str("state", Environment.GetEnvironmentVariable("PLATFORM_STATE_DIR") ?? ".platform"));
        // A Worker killed mid-job leaves its fetched jobs invisible for Hangfire's invisibility timeout (1 min) before
        // another server takes them again. The smoke run restarts the Worker with 4 s so it stays short; the full run
        // keeps the configured value.
        var workerInvisibility = smoke ? "00:00:04" : null;
        foreach (var (k, v) in new (string, object)[] { ("clients", clientsN), ("conversations", conversationsN), ("activitiesPerSecond", rate),
                     ("settleSeconds", settle.TotalSeconds), ("redisDownSeconds", redisDown.TotalSeconds), ("civicMeetings", meetings),
                     ("civicSubscribers", subscribers), ("workerInvisibilityTimeoutOnRestart", workerInvisibility ?? "configured (default 1 min)") })
        {
            rep.Parameters[k] = v switch { int i => i, double d => d, string t => t, _ => v.ToString() };
        }
        rep.Parameters["posts"] = "open loop at the rate, round-robin over the conversations, each with a clientActivityId; a failed attempt (error or 5xx) is retried with the same id, exponential backoff with jitter 250 ms … 5 s (smoke 2 s), until acknowledged; at most max-in-flight attempts at once (32 smoke, 128 full)";
        rep.Parameters["clients"] = clientsN;

        var procs = new SystemProcesses(state);
        var nodes = (Environment.GetEnvironmentVariable("REALTIME_URLS") ?? throw new InvalidOperationException("REALTIME_URLS is not set"))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(u => u.Replace("ws://", "http://", StringComparison.Ordinal).TrimEnd('/')).ToArray();
        var wsNodes = nodes.Select(n => n.Replace("http://", "ws://", StringComparison.Ordinal)).ToArray();
        var apiUrl = Environment.GetEnvironmentVariable("API_URL")!.TrimEnd('/');
        var workerUrl = Environment.GetEnvironmentVariable("WORKER_URL")?.TrimEnd('/');
        var redisPort = new Uri(Environment.GetEnvironmentVariable("REDIS_URL") ?? throw new InvalidOperationException("REDIS_URL is not set")).Port;

        var api = new PlatformApi();
        await api.SetupTenantAsync("bench-faults");
        var convs = await api.ConversationsAsync(conversationsN);
        var convOf = Enumerable.Range(0, clientsN).Select(i => i % conversationsN).ToArray();
        var tokens = await api.TokensAsync(convOf.Select(c => convs[c]).ToArray());
        var clients = Enumerable.Range(0, clientsN).Select(i =>
        {
            var u = new Uri(tokens[i].StreamUrl);
            return new ResilientClient(i, convOf[i], u.PathAndQuery, wsNodes);
        }).ToList();

        // Civic: a city with a file source of N meeting copies, and subscribers whose home city it is.
        var civic = await CivicSetupAsync(api, meetings, subscribers);

        using var stopClients = new CancellationTokenSource();
        var clientTasks = clients.Select(c => Task.Run(() => c.RunAsync(stopClients.Token))).ToList();
        await WaitAsync(() => clients.All(c => c.Open), TimeSpan.FromSeconds(120));
        Log($"{clients.Count(c => c.Open)}/{clientsN} clients open on {nodes.Length} nodes");

        // The poster: open loop at `rate`; every post retried with the same clientActivityId until acknowledged.
        var posts = new ConcurrentBag<Post>();
        var currentStep = "baseline";
        using var stopPosting = new CancellationTokenSource();
        var inFlight = new ConcurrentDictionary<long, Task>();
        // Ends the retries still going when the run drains: what was acknowledged is then fixed before it is compared
        // with what is stored (a post acknowledged after that comparison would otherwise count as lost).
        using var giveUp = new CancellationTokenSource();
        var postClient = PlatformApi.NewClient();
        // At most this many attempts in flight (a client's connection pool): the rest wait their turn.
        using var attempts = new SemaphoreSlim(a.Int("max-in-flight", smoke ? 32 : 128));
        postClient.Timeout = TimeSpan.FromSeconds(10);
        var poster = Task.Run(async () =>
        {
            var t0 = Clock.Now;
            for (long n = 0; !stopPosting.IsCancellationRequested; n++)
            {
                var due = t0 + (long)(n / rate * System.Diagnostics.Stopwatch.Frequency);
                var wait = Clock.Ms(Clock.Now, due);
                if (wait > 0) await Task.Delay(TimeSpan.FromMilliseconds(wait));
                var post = new Post(n, (int)(n % conversationsN), currentStep);
                posts.Add(post);
                var task = Task.Run(async () =>
                {
                    while (!giveUp.IsCancellationRequested)
                    {
                        post.Attempts++;
                        try
                        {
                            await attempts.WaitAsync(giveUp.Token);
                        }
                        catch (OperationCanceledException)
                        {
                            return;
                        }
                        try
                        {
                            using var req = new HttpRequestMessage(HttpMethod.Post, $"{apiUrl}/v1/conversations/{convs[post.Conversation]}/activities");
                            req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", api.ApiKey);
                            req.Content = new StringContent(
                                $"{{\"type\":\"message\",\"text\":\"faults {post.N}\",\"from\":{{\"id\":\"bench\"}},\"clientActivityId\":\"{post.ClientActivityId}\"}}",
                                Encoding.UTF8, "application/json");
                            using var res = await postClient.SendAsync(req, giveUp.Token);
                            var body = await res.Content.ReadAsStringAsync();
                            if (res.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK)
                            {
                                post.Seq = JsonNode.Parse(body)!["seq"]!.GetValue<long>();
                                post.AckedAt = Clock.Now;
                                return;
                            }
                            post.LastError = $"{(int)res.StatusCode}";
                            if ((int)res.StatusCode is >= 400 and < 500 and not 408 and not 429) return; // refused: not retried
                        }
                        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                        {
                            post.LastError = e.GetBaseException().Message;
                        }
                        finally
                        {
                            attempts.Release();
                        }
                        post.FailedAttempts++;
                        // Exponential backoff with jitter (250 ms … 5 s), as a client should: fixed-interval retries of
                        // every post queued during an outage hit the restarted Api all at once.
                        var backoff = Math.Min(maxBackoffMs, 250 * (1 << Math.Min(post.FailedAttempts - 1, 5)));
                        try
                        {
                            await Task.Delay(backoff / 2 + Random.Shared.Next(backoff / 2 + 1), giveUp.Token);
                        }
                        catch (OperationCanceledException)
                        {
                            return;
                        }
                    }
                });
                // A copy per post: the loop variable is one variable for the whole loop, so a continuation reading it
                // removed whichever post was newest when it ran, and the drain then waited out its whole deadline.
                var key = n;
                inFlight[key] = task;
                _ = task.ContinueWith(_ => inFlight.TryRemove(key, out Task? _), TaskScheduler.Default);
            }
        });

        var steps = new List<Step>();
        async Task RunStep(Step step, Func<Step, Task> inject, Func<bool>? recovered = null, Func<Task<bool>>? healthy = null)
        {
            Log($"step {step.Name}: {step.Description}");
            currentStep = step.Name;
            steps.Add(step);
            await Task.Delay(settle / 2);
            step.InjectedAt = Clock.Now;
            await inject(step);
            if (step.Skipped is not null) { Log($"  skipped: {step.Skipped}"); return; }
            var deadline = TimeSpan.FromSeconds(smoke ? 60 : 180);
            var t = Clock.Now;
            var healthTask = healthy is null ? Task.CompletedTask : Task.Run(async () =>
            {
                // Recorded only when seen: a window that closes first leaves it empty (shown as "–"), not the deadline.
                while (Clock.SecondsSince(t) < deadline.TotalSeconds)
                {
                    if (await healthy()) { step.ServiceHealthyAfterS = Math.Round(Clock.Ms(step.InjectedAt, Clock.Now) / 1000, 2); break; }
                    await Task.Delay(100);
                }
            });
            var postsTask = Task.Run(async () =>
            {
                // Recovered: the first acknowledgement of a POST first sent after the fault began.
                while (Clock.SecondsSince(t) < deadline.TotalSeconds)
                {
                    var acked = posts.Where(p => p.SentAt >= step.InjectedAt && p.Seq > 0).Select(p => p.AckedAt).DefaultIfEmpty().Min();
                    if (acked > 0) { step.PostsRecoveredAfterS = Math.Round(Clock.Ms(step.InjectedAt, acked) / 1000, 2); break; }
                    await Task.Delay(100);
                }
            });
            var clientsTask = Task.Run(async () =>
            {
                await Task.Delay(500);
                while (Clock.SecondsSince(t) < deadline.TotalSeconds)
                {
                    if (clients.All(c => c.Open) && (recovered?.Invoke() ?? true)) { step.ClientsReconnectedAfterS = Math.Round(Clock.Ms(step.InjectedAt, Clock.Now) / 1000, 2); break; }
                    await Task.Delay(100);
                }
            });
            await Task.WhenAll(healthTask, postsTask, clientsTask);
            Log($"  healthy after {step.ServiceHealthyAfterS?.ToString(CultureInfo.InvariantCulture) ?? "-"} s, posts after {step.PostsRecoveredAfterS?.ToString(CultureInfo.InvariantCulture) ?? "-"} s, clients after {step.ClientsReconnectedAfterS?.ToString(CultureInfo.InvariantCulture) ?? "-"} s");
            await Task.Delay(settle / 2);
        }

        async Task<bool> Healthy(string url)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                using var res = await postClient.GetAsync(url + "/health", cts.Token);
                return res.StatusCode == HttpStatusCode.OK;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return false; }
        }

        async Task<bool> AllHealthy() =>
            await Healthy(apiUrl) && (await Task.WhenAll(nodes.Select(Healthy))).All(x => x) && (workerUrl is null || await Healthy(workerUrl));

        ServiceProcess Kill9(string service)
        {
            var pid = procs.Service(service);
            if (!ServiceProcess.Alive(pid)) throw new InvalidOperationException($"{service} (pid file {procs.PidFile(service)}) is not running");
            var p = ServiceProcess.Capture(service, pid);
            ServiceProcess.Signal(pid, "KILL");
            return p;
        }

        async Task Restart(ServiceProcess p, string service, IReadOnlyDictionary<string, string>? extra = null)
        {
            await p.WaitExitAsync(TimeSpan.FromSeconds(30));
            var pid = p.Restart(procs.Log(service), extra);
            procs.Remember(service, pid);
            procs.Remember("faults-" + service, pid);
        }

        await Task.Delay(settle);
        steps.Add(new Step("baseline", "steady traffic, no fault"));

        // 1. kill -9 one Realtime node; its clients reconnect to the other with their watermark; the node comes back.
        await RunStep(new Step("realtime-kill9", "kill -9 realtime-0 (its clients reconnect to realtime-1 with their watermark), then start it again"), async s =>
        {
            var onNode0 = clients.Count(c => c.Open);
            var p = Kill9("realtime-0");
            s.Extra["clientsOpenBefore"] = onNode0;
            await Restart(p, "realtime-0");
        }, healthy: AllHealthy);

        // 2a. Redis restarted; 2b. Redis stopped for 30 s, then started.
        ServiceProcess? redis = null;
        async Task StopRedis()
        {
            var pid = procs.Redis(redisPort);
            if (pid == 0) throw new InvalidOperationException($"no redis-server on port {redisPort}");
            redis = ServiceProcess.Capture("redis", pid);
            redis = redis with { CommandLine = procs.RedisCommand(redis) };
            ServiceProcess.Signal(pid, "TERM");
            await redis.WaitExitAsync(TimeSpan.FromSeconds(30));
        }
        await RunStep(new Step("redis-restart", "restart Redis (SIGTERM, start again at once)"), async _ =>
        {
            await StopRedis();
            procs.Remember("faults-redis", redis!.Restart(procs.Log("redis")));
        }, healthy: AllHealthy);
        await RunStep(new Step("redis-down", $"stop Redis for {redisDown.TotalSeconds:F0} s, then start it"), async s =>
        {
            await StopRedis();
            await Task.Delay(redisDown);
            s.Extra["downSeconds"] = redisDown.TotalSeconds;
            procs.Remember("faults-redis", redis!.Restart(procs.Log("redis")));
        }, healthy: AllHealthy);

        // 3. PostgreSQL restarted with a fast shutdown (SIGINT to the postmaster) under posts.
        await RunStep(new Step("postgres-restart", "restart PostgreSQL (fast shutdown) under posts"), async _ =>
        {
            var pid = procs.Postgres();
            if (pid == 0) throw new InvalidOperationException("PostgreSQL's postmaster.pid was not found under " + state);
            var pg = ServiceProcess.Capture("postgres", pid);
            ServiceProcess.Signal(pid, "INT");
            await pg.WaitExitAsync(TimeSpan.FromSeconds(60));
            procs.Remember("faults-postgres", pg.Restart(procs.Log("postgres")));
        }, healthy: AllHealthy);

        // 4. kill -9 the Api during posts; the posters retry with the same clientActivityId.
        await RunStep(new Step("api-kill9", "kill -9 the Api during posts (posts retried with the same clientActivityId), then start it again"), async _ =>
        {
            var p = Kill9("api");
            await Restart(p, "api");
        }, healthy: AllHealthy);

        // 5. kill -9 the Worker during the civic pipeline's stages and the notification sends it causes.
        await RunStep(new Step("worker-kill9", "kill -9 the Worker during civic pipeline stages and notification sends, then start it again"), async s =>
        {
            await api.CallAsync(HttpMethod.Post, $"/v1/internal/cities/{civic.CityId}/scan", Environment.GetEnvironmentVariable("OPERATOR_KEY")!);
            // Kill once the pipeline is under way (a run exists), so stages are in flight.
            await WaitAsync(async () => (await CivicRunsAsync(api, civic.CityId)).Count > 0, TimeSpan.FromSeconds(30));
            s.Extra["runsWhenKilled"] = (await CivicRunsAsync(api, civic.CityId)).Count;
            var p = Kill9("worker");
            await Restart(p, "worker", workerInvisibility is null ? null : new Dictionary<string, string> { ["Platform__Jobs__InvisibilityTimeout"] = workerInvisibility });
        }, healthy: AllHealthy);

        // 6. Disk full: not run (see below).
        var disk = new Step("disk-full", "PostgreSQL's data directory on a small loop device filled up");
        disk.Skipped = "not run: a loop device needs root mounts and moving the shared cluster's data directory on a machine other engineers use; doing it safely needs a throwaway VM or container";
        steps.Add(disk);

        // Drain: stop posting, let in-flight retries finish, let every client reach its conversation's last seq.
        stopPosting.Cancel();
        await poster;
        var drainStarted = Clock.Now;
        await WaitAsync(() => inFlight.IsEmpty, TimeSpan.FromSeconds(120));
        var stillRetrying = inFlight.Count;
        Log($"drain: posts settled after {Clock.SecondsSince(drainStarted):F1} s ({stillRetrying} still retrying)");
        await giveUp.CancelAsync();
        await Task.WhenAll(inFlight.Values);
        rep.Results["postsStillRetryingAtDrain"] = stillRetrying;
        var lastSeq = new long[conversationsN];
        // From the table itself (what a resuming client is served from), not a cached conversation read.
        var maxSeq = (await PsqlAsync($"SELECT conversation_id || ' ' || max(seq) FROM core.activities WHERE tenant_id = '{civic.TenantId}' GROUP BY conversation_id"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).ToDictionary(f => f[0], f => long.Parse(f[1], CultureInfo.InvariantCulture));
        for (var i = 0; i < conversationsN; i++)
        {
            lastSeq[i] = maxSeq.GetValueOrDefault(convs[i]);
        }
        await WaitAsync(() => clients.All(c => Interlocked.Read(ref c.MaxSeq) >= lastSeq[c.Conversation]), TimeSpan.FromSeconds(120));
        Log($"drain: clients caught up after {Clock.SecondsSince(drainStarted):F1} s");
        stopClients.Cancel();
        await Task.WhenAll(clientTasks);

        // Civic: every meeting's run finished; then the notifications it produced.
        var runsFinished = await WaitAsync(async () => (await CivicRunsAsync(api, civic.CityId)).Count(r => (string?)r["status"] != "running") >= meetings, TimeSpan.FromSeconds(smoke ? 90 : 300));
        Log($"drain: civic runs finished ({runsFinished}) after {Clock.SecondsSince(drainStarted):F1} s");
        var runs = await CivicRunsAsync(api, civic.CityId);
        await WaitAsync(async () => (await PsqlAsync($"SELECT count(*) FROM ops.notification_deliveries WHERE tenant_id = '{civic.TenantId}' AND state = 'pending'")).Trim() == "0", TimeSpan.FromSeconds(60));

        // ---- Checks ----
        var all = posts.OrderBy(p => p.N).ToList();
        var stored = await StoredAsync(civic.TenantIdOf(api), convs);
        var storedById = stored.GroupBy(s => s.ClientActivityId).ToDictionary(g => g.Key, g => g.ToList());
        var seqsOfClient = clients.ToDictionary(c => c.Index, c => c.Seqs.ToList());
        var setOfClient = clients.ToDictionary(c => c.Index, c => c.Seqs.ToHashSet());
        var rows = new List<object?[]>();
        var stepResults = new JsonArray();
        long totalLost = 0, totalDup = 0, totalUndelivered = 0, totalOrder = 0;
        foreach (var step in steps)
        {
            var mine = all.Where(p => p.Step == step.Name).ToList();
            var acked = mine.Count(p => p.Seq > 0);
            var storedN = mine.Count(p => storedById.ContainsKey(p.ClientActivityId));
            var duplicated = mine.Count(p => storedById.TryGetValue(p.ClientActivityId, out var l) && l.Count > 1);
            var lost = mine.Count(p => p.Seq > 0 && !storedById.ContainsKey(p.ClientActivityId));
            var retried = mine.Count(p => p.FailedAttempts > 0);
            var retriedOk = mine.Count(p => p.FailedAttempts > 0 && p.Seq > 0);
            var neverAcked = mine.Count(p => p.Seq <= 0);
            // Delivered: a stored activity of this step reached every client of its conversation.
            long expectedDeliveries = 0, delivered = 0;
            foreach (var p in mine.Where(p => storedById.ContainsKey(p.ClientActivityId)))
            {
                var seq = storedById[p.ClientActivityId][0].Seq;
                foreach (var c in clients.Where(c => c.Conversation == p.Conversation))
                {
                    expectedDeliveries++;
                    if (setOfClient[c.Index].Contains(seq)) delivered++;
                }
            }
            totalLost += lost; totalDup += duplicated; totalUndelivered += expectedDeliveries - delivered;
            var o = new JsonObject
            {
                ["step"] = step.Name, ["description"] = step.Description, ["skipped"] = step.Skipped,
                ["posts"] = mine.Count, ["acknowledged"] = acked, ["stored"] = storedN, ["lost"] = lost, ["duplicated"] = duplicated,
                ["neverAcknowledged"] = neverAcked, ["postsWithFailedAttempts"] = retried, ["retriedAndAcknowledged"] = retriedOk,
                ["failedAttempts"] = mine.Sum(p => p.FailedAttempts),
                ["deliveriesExpected"] = expectedDeliveries, ["delivered"] = delivered,
                ["serviceHealthyAfterS"] = step.ServiceHealthyAfterS, ["postsRecoveredAfterS"] = step.PostsRecoveredAfterS,
                ["clientsReconnectedAfterS"] = step.ClientsReconnectedAfterS, ["details"] = step.Extra.DeepClone(),
                ["lastErrors"] = new JsonArray(mine.Where(p => p.LastError != null).Select(p => p.LastError).Distinct().Take(5).Select(e => (JsonNode)e!).ToArray()),
            };
            stepResults.Add(o);
            rows.Add([step.Name, step.Skipped is null ? mine.Count : "skipped", acked, storedN, $"{delivered}/{expectedDeliveries}", lost, duplicated,
                $"{retriedOk}/{retried}", F(step.ServiceHealthyAfterS), F(step.PostsRecoveredAfterS), F(step.ClientsReconnectedAfterS)]);
        }

        // Per client: every seq 1..lastSeq exactly once, in increasing order, over all its connections.
        var exact = 0;
        var problems = new List<string>();
        foreach (var c in clients)
        {
            var seqs = seqsOfClient[c.Index];
            var inOrder = seqs.Zip(seqs.Skip(1)).All(p => p.Second > p.First);
            if (!inOrder) totalOrder++;
            if (seqs.SequenceEqual(Enumerable.Range(1, (int)lastSeq[c.Conversation]).Select(x => (long)x))) exact++;
            else if (problems.Count < 10) problems.Add($"client {c.Index}: {seqs.Count} seqs, {seqs.Distinct().Count()} distinct, want 1..{lastSeq[c.Conversation]}; in order: {inOrder}");
        }
        var clientErrors = clients.SelectMany(c => c.Errors).GroupBy(e => e.Length > 80 ? e[..80] : e).OrderByDescending(g => g.Count())
            .Take(8).ToDictionary(g => g.Key, g => g.Count());

        // Notifications: every delivery sent, none sent twice; runs: one per meeting, each finished once.
        var sentTwice = int.Parse((await PsqlAsync($"SELECT count(*) FROM (SELECT delivery_id FROM ops.notification_attempts WHERE tenant_id = '{civic.TenantId}' AND outcome = 'sent' GROUP BY delivery_id HAVING count(*) > 1) d")).Trim(), CultureInfo.InvariantCulture);
        var deliveries = (await PsqlAsync($"SELECT state || ':' || count(*) FROM ops.notification_deliveries WHERE tenant_id = '{civic.TenantId}' GROUP BY state")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var outboxRows = int.Parse((await PsqlAsync($"SELECT count(*) FROM ops.notification_outbox WHERE tenant_id = '{civic.TenantId}'")).Trim(), CultureInfo.InvariantCulture);
        var meetingRuns = runs.Where(r => r["meetingId"] is not null).GroupBy(r => (string)r["meetingId"]!).ToList();
        var published = runs.Count(r => (string?)r["status"] is "published" or "limited_confidence");
        var runsPerArtifact = meetingRuns.Max(g => (int?)g.Count()) ?? 0;
        var expectedNotifications = published * subscribers;
        var notificationsSent = deliveries.Where(d => d.StartsWith("sent:", StringComparison.Ordinal)).Sum(d => int.Parse(d[5..], CultureInfo.InvariantCulture));

        rep.Results["steps"] = stepResults;
        rep.Results["activities"] = new JsonObject
        {
            ["posted"] = all.Count, ["acknowledged"] = all.Count(p => p.Seq > 0), ["stored"] = stored.Count,
            ["lost"] = totalLost, ["duplicated"] = totalDup, ["undeliveredToClients"] = totalUndelivered,
            ["clientsOutOfOrder"] = totalOrder, ["clientsWithExactSequence"] = exact, ["clients"] = clientsN,
            ["storedWithoutAcknowledgement"] = stored.Count - all.Count(p => p.Seq > 0),
            ["problems"] = new JsonArray(problems.Select(p => (JsonNode)p).ToArray()),
        };
        rep.Results["clientErrors"] = Counts(clientErrors);
        rep.Results["clientReconnects"] = clients.Sum(c => c.Reconnects);
        rep.Results["civic"] = new JsonObject
        {
            ["meetings"] = meetings, ["runs"] = runs.Count, ["meetingsWithOneRun"] = meetingRuns.Count(g => g.Count() == 1),
            ["maxRunsPerMeeting"] = runsPerArtifact, ["published"] = published, ["allFinished"] = runsFinished,
            ["statuses"] = Counts(runs.GroupBy(r => (string?)r["status"] ?? "?").ToDictionary(g => g.Key, g => g.Count())),
        };
        rep.Results["notifications"] = new JsonObject
        {
            ["subscribers"] = subscribers, ["expected"] = expectedNotifications, ["outbox"] = outboxRows,
            ["deliveries"] = new JsonArray(deliveries.Select(d => (JsonNode)d).ToArray()), ["sent"] = notificationsSent, ["sentMoreThanOnce"] = sentTwice,
        };
        var ok = totalLost == 0 && totalDup == 0 && totalUndelivered == 0 && totalOrder == 0 && exact == clientsN && sentTwice == 0
            && notificationsSent == expectedNotifications && outboxRows == expectedNotifications && runsFinished && runsPerArtifact <= 1;
        rep.Results["zeroLostOrDuplicated"] = ok;
        rep.Results["durationSeconds"] = Math.Round(Clock.SecondsSince(runStarted), 1);
        rows.Add(["notifications (civic publish → in-app)", "", "", outboxRows, $"{notificationsSent}/{expectedNotifications} sent", "", sentTwice, "", "", "", ""]);
        rows.Add(["civic pipeline runs", "", "", runs.Count, $"{published}/{meetings} published", "", Math.Max(0, runsPerArtifact - 1), "", "", "", ""]);
        rep.Table(["step", "posts", "acknowledged", "stored", "delivered (client × activity)", "lost", "duplicated", "retried → ok", "services healthy after (s)", "posts recovered after (s)", "clients back after (s)"], rows);
        rep.Chart("bar", "Time to recover per fault", "fault", "seconds",
        [
            ("services healthy", steps.Where(s => s.ServiceHealthyAfterS is not null).Select(s => ((object)s.Name, s.ServiceHealthyAfterS!.Value))),
            ("clients back", steps.Where(s => s.ClientsReconnectedAfterS is not null).Select(s => ((object)s.Name, s.ClientsReconnectedAfterS!.Value))),
        ]);
        rep.Write();
        Log($"activities: {all.Count} posted, {stored.Count} stored, lost {totalLost}, duplicated {totalDup}, undelivered {totalUndelivered}; exact per client {exact}/{clientsN}; notifications {notificationsSent}/{expectedNotifications} (twice: {sentTwice}); runs {runs.Count} ({published} published); {Clock.SecondsSince(runStarted):F0} s");
        return ok ? 0 : 3;
    }

    private static JsonObject Counts(Dictionary<string, int> counts)
    {
        var o = new JsonObject();
        foreach (var (k, v) in counts) o[k] = v;
        return o;
    }

    private static string F(double? s) => s?.ToString("F2", CultureInfo.InvariantCulture) ?? "–";

    private static async Task WaitAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition() && DateTime.UtcNow < deadline) await Task.Delay(100);
    }

    private static async Task<bool> WaitAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await condition()) return true;
            }
            catch (Exception e) when (e is InvalidOperationException or HttpRequestException or TaskCanceledException) { }
            await Task.Delay(500);
        }
        return false;
    }

    private sealed record Civic(string CityId, string TenantId)
    {
        public string TenantIdOf(PlatformApi _) => TenantId;
    }

    private static async Task<Civic> CivicSetupAsync(PlatformApi api, int meetings, int subscribers)
    {
        var root = Environment.GetEnvironmentVariable("BENCH_CIVIC_SOURCES") ?? throw new InvalidOperationException("BENCH_CIVIC_SOURCES is not set (bench/run.sh sets it when it starts the system)");
        var seedsDir = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "seeds", "civic");
        var seeds = Directory.EnumerateFiles(Path.GetFullPath(seedsDir), "*.txt", SearchOption.AllDirectories).Order().ToList();
        var folder = Directory.CreateDirectory(Path.Combine(root, "faults-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        for (var i = 0; i < meetings; i++)
        {
            var src = seeds[i % seeds.Count];
            await File.WriteAllTextAsync(Path.Combine(folder, $"{Path.GetFileNameWithoutExtension(src)}-faults{i:D4}.txt"), await File.ReadAllTextAsync(src) + $"\nFaults copy {i}.\n");
        }
        var city = await api.CallAsync(HttpMethod.Post, "/v1/civic/cities", api.ApiKey,
            JsonSerializer.Serialize(new { slug = "faults", name = "Faults City", sources = new[] { new { kind = "file", location = folder } } }));
        var cityId = (string)city["id"]!;
        var tenantId = (string?)city["tenantId"];
        await Parallel.ForAsync(0, subscribers, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            var token = (string)(await api.CallAsync(HttpMethod.Post, $"/v1/users/faults-sub-{i}/tokens", api.ApiKey, "{}"))["token"]!;
            await api.CallAsync(HttpMethod.Patch, "/v1/civic/me", token, JsonSerializer.Serialize(new { homeCityId = cityId, notificationsEnabled = true }));
        });
        tenantId ??= (await PsqlAsync($"SELECT tenant_id FROM civic.cities WHERE id = '{cityId}'")).Trim();
        return new Civic(cityId, tenantId);
    }

    private static async Task<List<JsonNode>> CivicRunsAsync(PlatformApi api, string cityId)
    {
        var list = await api.CallAsync(HttpMethod.Get, $"/v1/internal/cities/{cityId}/runs?limit=1000", Environment.GetEnvironmentVariable("OPERATOR_KEY")!);
        return list.AsArray().Where(r => r?["meetingId"] is not null).Select(r => r!).ToList();
    }

    private sealed record StoredActivity(string ClientActivityId, long Seq);

    private static async Task<List<StoredActivity>> StoredAsync(string tenantId, string[] convs)
    {
        var text = await PsqlAsync($"SELECT client_activity_id || ' ' || seq FROM core.activities WHERE tenant_id = '{tenantId}' AND client_activity_id LIKE 'faults-%'");
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).Select(f => new StoredActivity(f[0], long.Parse(f[1], CultureInfo.InvariantCulture))).ToList();
    }

    /// <summary>psql as the owner (DATABASE_URL: the development server's superuser, which row-level security does not bind).</summary>
    private static async Task<string> PsqlAsync(string sql)
    {
        var db = new Uri(Environment.GetEnvironmentVariable("DATABASE_URL") ?? throw new InvalidOperationException("DATABASE_URL is not set"));
        if (db.UserInfo.Split(':') is [_, var pw]) Environment.SetEnvironmentVariable("PGPASSWORD", Uri.UnescapeDataString(pw));
        return await Scenarios.RunAsync("psql", ["-h", db.Host, "-p", db.Port.ToString(CultureInfo.InvariantCulture), "-U", Uri.UnescapeDataString(db.UserInfo.Split(':')[0]),
            "-d", db.AbsolutePath.Trim('/'), "-tAqc", sql]);
    }
}
