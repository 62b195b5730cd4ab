using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Core.Jobs;

namespace Platform.Tests.Integration.Jobs;

/// <summary>Crash recovery and graceful shutdown: what happens to a job whose worker goes away.</summary>
public sealed class LeaseTests : IAsyncLifetime
{
    private readonly JobLedger _ledger = new();
    private NpgsqlDataSource _db = null!;
    private JobQueue _queue = null!;
    private JobAdmin _admin = null!;
    private string _cs = "";
    private string _redis = "";

    public async Task InitializeAsync()
    {
        _cs = await TestEnvironment.CreateDatabaseAsync(nameof(LeaseTests));
        _redis = await TestEnvironment.RedisAsync();
        _db = NpgsqlDataSource.Create(_cs);
        _queue = new JobQueue(_db);
        _admin = new JobAdmin(_db);
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task A_worker_killed_mid_job_loses_its_lease_and_another_worker_runs_the_job()
    {
        // The doomed worker is the real Worker executable in its own process, killed without warning.
        using var doomed = StartWorkerProcess("doomed");
        try
        {
            var job = await _queue.EnqueueAsync(new CanaryArgs(HoldMilliseconds: 600_000), new JobOptions { MaxAttempts = 3 });
            await Eventually.ReturnsAsync(async () => (await _admin.GetAsync(job.Id))!,
                j => j.State == JobStates.Running && j.AttemptedBy.SequenceEqual(["doomed"]), TimeSpan.FromSeconds(60),
                "the worker process claims the job");

            doomed.Kill(entireProcessTree: true);
            await doomed.WaitForExitAsync();

            await using var survivor = new JobWorkerHost(FastJobSettings.For(_cs, _redis, "survivor"),
                JobsDb.Handlers(_ledger, "survivor", s => s.AddJobHandler<CanaryArgs, RecordingCanaryHandler>())).Start();

            var done = await JobsDb.WaitForStateAsync(_admin, job.Id, JobStates.Completed, TimeSpan.FromSeconds(30));
            Assert.Equal(2, done.Attempt);
            Assert.Equal(["doomed", "survivor"], done.AttemptedBy);
            var lost = Assert.Single(done.Errors);
            Assert.Equal("LeaseExpired", lost.Type);
            Assert.Equal("doomed", lost.Worker);
            Assert.Equal(1, _ledger.RunsOf(job.Id));
        }
        finally
        {
            if (!doomed.HasExited)
            {
                doomed.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task Shutdown_releases_a_job_whose_handler_does_not_finish_in_time_without_counting_the_attempt()
    {
        var worker = new JobWorkerHost(FastJobSettings.For(_cs, _redis, "stopping"), JobsDb.Handlers(_ledger, "stopping")).Start();
        var job = await _queue.EnqueueAsync(new CanaryArgs(HoldMilliseconds: 600_000));
        await JobsDb.WaitForStateAsync(_admin, job.Id, JobStates.Running);

        await worker.DisposeAsync(); // graceful stop: 1 s for the handler, then cancel and release

        var released = (await _admin.GetAsync(job.Id))!;
        Assert.Equal(JobStates.Available, released.State);
        Assert.Equal(0, released.Attempt);
        Assert.Empty(released.Errors);
    }

    private Process StartWorkerProcess(string workerId)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Platform.Worker.dll");
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        foreach (var (key, value) in FastJobSettings.For(_cs, _redis, workerId))
        {
            psi.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        psi.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        psi.WorkingDirectory = AppContext.BaseDirectory;
        var p = Process.Start(psi) ?? throw new InvalidOperationException("Could not start the Worker process.");
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }
}
