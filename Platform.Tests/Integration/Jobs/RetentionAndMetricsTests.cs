using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Npgsql;
using Platform.Core.Jobs;

namespace Platform.Tests.Integration.Jobs;

/// <summary>Completed jobs are pruned after the retention period, discarded ones stay; the meters count what happened.</summary>
public sealed class RetentionAndMetricsTests : IAsyncLifetime
{
    private NpgsqlDataSource _db = null!;
    private JobWorkerHost _worker = null!;
    private JobQueue _queue = null!;
    private JobAdmin _admin = null!;

    public async Task InitializeAsync()
    {
        var cs = await TestEnvironment.CreateDatabaseAsync(nameof(RetentionAndMetricsTests));
        _db = NpgsqlDataSource.Create(cs);
        _queue = new JobQueue(_db);
        _admin = new JobAdmin(_db);
        var settings = FastJobSettings.For(cs, await TestEnvironment.RedisAsync(), "retention");
        settings["Platform:Jobs:CompletedRetention"] = "00:00:01";
        settings["Platform:Jobs:PruneInterval"] = "00:00:00.200";
        settings["Platform:Jobs:StatsInterval"] = "00:00:00.200";
        _worker = new JobWorkerHost(settings, JobsDb.Handlers(new JobLedger(), "R")).Start();
    }

    public async Task DisposeAsync()
    {
        await _worker.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task Completed_jobs_are_pruned_after_retention_and_discarded_jobs_are_kept()
    {
        var ok = await _queue.EnqueueAsync(new CanaryArgs());
        var bad = await _queue.EnqueueAsync(new CanaryArgs(FailTimes: 5), new JobOptions { MaxAttempts = 1 });
        await JobsDb.WaitForStateAsync(_admin, ok.Id, JobStates.Completed);
        await JobsDb.WaitForStateAsync(_admin, bad.Id, JobStates.Discarded);

        await Eventually.TrueAsync(async () => await _admin.GetAsync(ok.Id) is null, TimeSpan.FromSeconds(20), "the completed job is pruned");

        Assert.Equal(JobStates.Discarded, (await _admin.GetAsync(bad.Id))!.State);
    }

    [Fact]
    public async Task Meters_count_enqueued_completed_failed_and_discarded_jobs_and_report_queue_depth()
    {
        var seen = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == JobTelemetry.Name)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if ((tag.Key == "job.kind" && Equals(tag.Value, CanaryArgs.Kind)) || (tag.Key == "queue" && Equals(tag.Value, "later")))
                {
                    seen.AddOrUpdate(instrument.Name, value, (_, n) => n + value);
                }
            }
        });
        listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "queue" && Equals(tag.Value, "later"))
                {
                    seen.AddOrUpdate(instrument.Name, 1, (_, n) => n + 1);
                }
            }
        });
        listener.Start();

        var ok = await _queue.EnqueueAsync(new CanaryArgs());
        var bad = await _queue.EnqueueAsync(new CanaryArgs(FailTimes: 5), new JobOptions { MaxAttempts = 1 });
        // A queue no worker serves: its jobs wait, so depth and age are there to report.
        await _queue.EnqueueAsync(new CanaryArgs(), new JobOptions { Queue = "later" });
        await JobsDb.WaitForStateAsync(_admin, ok.Id, JobStates.Completed);
        await JobsDb.WaitForStateAsync(_admin, bad.Id, JobStates.Discarded);

        await Eventually.TrueAsync(() =>
        {
            listener.RecordObservableInstruments();
            return Task.FromResult(
                seen.GetValueOrDefault("platform.jobs.enqueued") >= 3 &&
                seen.GetValueOrDefault("platform.jobs.completed") >= 1 &&
                seen.GetValueOrDefault("platform.jobs.failed") >= 1 &&
                seen.GetValueOrDefault("platform.jobs.discarded") >= 1 &&
                seen.GetValueOrDefault("platform.jobs.queue.depth") >= 1 &&
                seen.GetValueOrDefault("platform.jobs.queue.oldest_age") >= 1);
        }, TimeSpan.FromSeconds(20), "every job meter reports");
    }
}
