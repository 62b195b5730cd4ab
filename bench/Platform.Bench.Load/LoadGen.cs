using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace Platform.Bench.Load;

public sealed class PhaseResult
{
    public readonly ConcurrentBag<double> Latencies = new();
    public readonly ConcurrentDictionary<int, int> Statuses = new();
    public int Ok, Errors, Dropped;
    public double Seconds;
    public double TargetRate;

    public void Record(int status, double ms)
    {
        Statuses.AddOrUpdate(status, 1, (_, c) => c + 1);
        if (status is >= 200 and < 300) { Interlocked.Increment(ref Ok); Latencies.Add(ms); }
        else Interlocked.Increment(ref Errors);
    }

    public double Rps => Seconds > 0 ? Ok / Seconds : 0;

    public JsonObject ToJson()
    {
        var j = Stats.Summary(Latencies);
        j["targetRate"] = TargetRate > 0 ? TargetRate : null;
        j["achievedRps"] = Stats.R(Rps, 1);
        j["ok"] = Ok;
        j["errors"] = Errors;
        j["dropped"] = Dropped;
        j["seconds"] = Stats.R(Seconds, 2);
        j["statuses"] = new JsonObject(Statuses.OrderBy(k => k.Key).Select(k => KeyValuePair.Create(k.Key == 0 ? "socketError" : k.Key.ToString(), (JsonNode?)k.Value)));
        return j;
    }
}

/// <summary>Open-loop constant-rate and closed-loop saturation load. send(n) returns an HTTP status (0 = exception).</summary>
public static class LoadGen
{
    /// <summary>
    /// Request n is due at t0 + n/rate and its latency counts from that moment (not from when it was actually
    /// sent), so a stalled server cannot hide its queueing delay (no coordinated omission). At most maxInFlight
    /// requests are outstanding; requests that would exceed it are counted as dropped.
    /// </summary>
    public static async Task<PhaseResult> ConstantRateAsync(Func<long, Task<int>> send, double rate, TimeSpan duration, int maxInFlight = 2048)
    {
        var r = new PhaseResult { TargetRate = rate };
        var total = (long)(rate * duration.TotalSeconds);
        var inFlight = 0;
        var pending = new List<Task>((int)Math.Min(total, 1_000_000));
        var t0 = Clock.Now;
        var freq = System.Diagnostics.Stopwatch.Frequency;
        long n = 0;
        while (n < total)
        {
            var now = Clock.Now;
            var due = Math.Min(total, (long)((now - t0) * rate / freq) + 1);
            for (; n < due; n++)
            {
                var scheduled = t0 + (long)(n * freq / rate);
                if (Volatile.Read(ref inFlight) >= maxInFlight) { r.Dropped++; continue; }
                Interlocked.Increment(ref inFlight);
                var i = n;
                pending.Add(Task.Run(async () =>
                {
                    int status;
                    try { status = await send(i); } catch { status = 0; }
                    r.Record(status, Clock.Ms(scheduled, Clock.Now));
                    Interlocked.Decrement(ref inFlight);
                }));
            }
            await Task.Delay(1);
        }
        await Task.WhenAll(pending);
        r.Seconds = Clock.SecondsSince(t0);
        return r;
    }

    /// <summary>concurrency workers, each sending its next request as soon as the previous answered.</summary>
    public static async Task<PhaseResult> SaturateAsync(Func<long, Task<int>> send, int concurrency, TimeSpan duration)
    {
        var r = new PhaseResult();
        long counter = 0;
        var t0 = Clock.Now;
        var end = t0 + (long)(duration.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (Clock.Now < end)
            {
                var start = Clock.Now;
                int status;
                try { status = await send(Interlocked.Increment(ref counter)); } catch { status = 0; }
                r.Record(status, Clock.Ms(start, Clock.Now));
            }
        })));
        r.Seconds = Clock.SecondsSince(t0);
        return r;
    }
}
