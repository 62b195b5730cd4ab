using System.Diagnostics;

namespace Platform.Bench.Jobs;

/// <summary>Counts job starts and their enqueue→start latency (one process, one monotonic clock).</summary>
public sealed class Recorder
{
    private readonly List<double> _latenciesMs = [];
    private readonly Lock _lock = new();
    private TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _target;
    private int _count;

    public void Expect(int target)
    {
        lock (_lock)
        {
            _latenciesMs.Clear();
            _count = 0;
            _target = target;
            _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public Task Done => _done.Task;

    public void Started(long enqueuedTimestamp)
    {
        var ms = Stopwatch.GetElapsedTime(enqueuedTimestamp).TotalMilliseconds;
        lock (_lock)
        {
            _latenciesMs.Add(ms);
            if (++_count == _target)
            {
                _done.TrySetResult();
            }
        }
    }

    public (double P50, double P99, double Max) Percentiles()
    {
        lock (_lock)
        {
            var sorted = _latenciesMs.Order().ToArray();
            if (sorted.Length == 0)
            {
                return (double.NaN, double.NaN, double.NaN);
            }
            double At(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
            return (At(0.50), At(0.99), sorted[^1]);
        }
    }

    public static async Task WaitAsync(Task done, TimeSpan timeout, string what)
    {
        if (await Task.WhenAny(done, Task.Delay(timeout)) != done)
        {
            throw new TimeoutException($"{what} did not finish within {timeout}.");
        }
    }
}

public sealed record ThroughputResult(int Jobs, double Seconds, double JobsPerSecond);

/// <summary>EnqueueCallP50Ms: how long the enqueue call itself took (its commit included), part of every latency.</summary>
public sealed record LatencyResult(int Jobs, double RatePerSecond, double P50Ms, double P99Ms, double MaxMs, double EnqueueCallP50Ms);

public sealed record EngineResult(string Engine, string Setup, ThroughputResult Throughput, LatencyResult Latency);
