using Hangfire;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Security;
using Platform.Core.Jobs;

namespace Platform.Api.Apis;

/// <summary>
/// The operator's window on jobs, read from Hangfire's storage: one job with its history, retry and cancel, counts per
/// state and queue; recurring schedules with pause, resume and trigger. Lists of jobs are the Hangfire Dashboard's.
/// </summary>
public static class JobsAdminApi
{
    public const string DashboardPath = "/hangfire";

    public static IEndpointRouteBuilder MapJobsAdminApi(this IEndpointRouteBuilder app)
    {
        var jobs = app.MapGroup("/v1/admin/jobs").WithTags("Jobs").RequireAuthorization(AuthPolicies.Operator);
        jobs.MapPost("/canary", EnqueueCanary)
            .WithName("EnqueueCanaryJob").WithSummary("Enqueue a diagnostic job that fails its first failTimes runs");
        jobs.MapGet("/stats", GetStats)
            .WithName("GetJobStats").WithSummary("Job counts per state and queue, and the outbox backlog");
        jobs.MapGet("/{id:long}", GetJob)
            .WithName("GetJob").WithSummary("One job with its attempts and errors");
        jobs.MapPost("/{id:long}/retry", RetryJob)
            .WithName("RetryJob").WithSummary("Run a failed, deleted, succeeded or scheduled job again now");
        jobs.MapPost("/{id:long}/cancel", CancelJob)
            .WithName("CancelJob").WithSummary("Delete a job that has not ended (a running handler is cancelled)");

        var schedules = app.MapGroup("/v1/admin/schedules").WithTags("Jobs").RequireAuthorization(AuthPolicies.Operator);
        schedules.MapGet("/", ListSchedules)
            .WithName("ListSchedules").WithSummary("Recurring schedules with their next and last fire times");
        schedules.MapPost("/{name}/pause", PauseSchedule)
            .WithName("PauseSchedule").WithSummary("Stop a schedule from firing until it is resumed");
        schedules.MapPost("/{name}/resume", ResumeSchedule)
            .WithName("ResumeSchedule").WithSummary("Resume a paused schedule from its next fire time after now");
        schedules.MapPost("/{name}/trigger", TriggerSchedule)
            .WithName("TriggerSchedule").WithSummary("Enqueue a schedule's job now, outside its cron");

        // The Hangfire Dashboard, for the operator key only. People reach it through the Admin panel, which adds its
        // sign-in and network allowlist and forwards /hangfire with the key (a browser holds no operator key).
        app.MapHangfireDashboard(DashboardPath, new DashboardOptions
        {
            Authorization = [], // the endpoint's operator policy decides
            AsyncAuthorization = [],
            AppPath = null,
            DashboardTitle = "Platform jobs",
            DisplayStorageConnectionString = false,
            StatsPollingInterval = 5000,
            // Callers authenticate with the operator key in a header, which a cross-site form cannot send, so a request
            // forgery cannot reach this endpoint; the browser-facing side is the Admin's proxy, whose session cookie is
            // SameSite=Strict. Hangfire would otherwise demand Api's antiforgery token (registered for the sign-in
            // pages), which the proxied dashboard page never carries.
            IgnoreAntiforgeryToken = true,
        }).RequireAuthorization(AuthPolicies.Operator).ExcludeFromDescription();
        return app;
    }

    public static async Task<Results<Accepted<JobAccepted>, ValidationProblem>> EnqueueCanary(
        CanaryRequest? request, [AsParameters] JobsAdminServices services, CancellationToken ct)
    {
        var failTimes = request?.FailTimes ?? 0;
        var maxAttempts = request?.MaxAttempts ?? failTimes + 1;
        var errors = new Dictionary<string, string[]>();
        if (failTimes is < 0 or > 100)
        {
            errors["failTimes"] = ["failTimes must be between 0 and 100."];
        }
        if (maxAttempts is < 1 or > 100)
        {
            errors["maxAttempts"] = ["maxAttempts must be between 1 and 100."];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var job = await services.JobQueue.EnqueueAsync(new CanaryArgs(failTimes), new JobOptions { MaxAttempts = maxAttempts }, ct);
        return TypedResults.Accepted($"/v1/admin/jobs/{job.Id}", new JobAccepted(job.Id));
    }

    public static async Task<Ok<JobStats>> GetStats([AsParameters] JobsAdminServices services, CancellationToken ct) =>
        TypedResults.Ok(await services.Admin.StatsAsync(ct));

    public static async Task<Results<Ok<JobDetails>, ProblemHttpResult>> GetJob(
        long id, [AsParameters] JobsAdminServices services, CancellationToken ct) =>
        await services.Admin.GetAsync(id, ct) is { } job ? TypedResults.Ok(job) : JobNotFound(id);

    public static async Task<Results<Ok<JobDetails>, ProblemHttpResult>> RetryJob(
        long id, [AsParameters] JobsAdminServices services, CancellationToken ct) =>
        await services.Admin.RetryAsync(id, ct) switch
        {
            JobChange.Done => TypedResults.Ok((await services.Admin.GetAsync(id, ct))!),
            JobChange.NotFound => JobNotFound(id),
            _ => TypedResults.Problem(
                $"Job {id} cannot be retried now: it is pending, enqueued or running, or another live job holds its unique key.",
                statusCode: StatusCodes.Status409Conflict, title: "Job cannot be retried"),
        };

    public static async Task<Results<Ok<JobDetails>, ProblemHttpResult>> CancelJob(
        long id, [AsParameters] JobsAdminServices services, CancellationToken ct) =>
        await services.Admin.CancelAsync(id, ct) switch
        {
            JobChange.Done => TypedResults.Ok((await services.Admin.GetAsync(id, ct))!),
            JobChange.NotFound => JobNotFound(id),
            _ => TypedResults.Problem($"Job {id} has already ended or is not handed to Hangfire yet.", statusCode: StatusCodes.Status409Conflict,
                title: "Job cannot be cancelled"),
        };

    public static async Task<Ok<IReadOnlyList<ScheduleDetails>>> ListSchedules([AsParameters] JobsAdminServices services, CancellationToken ct) =>
        TypedResults.Ok(await services.Admin.SchedulesAsync(ct));

    public static async Task<Results<Ok<ScheduleDetails>, ProblemHttpResult>> PauseSchedule(
        string name, [AsParameters] JobsAdminServices services, CancellationToken ct) =>
        await services.Admin.PauseAsync(name, ct) is { } s ? TypedResults.Ok(s) : ScheduleNotFound(name);

    public static async Task<Results<Ok<ScheduleDetails>, ProblemHttpResult>> ResumeSchedule(
        string name, [AsParameters] JobsAdminServices services, CancellationToken ct) =>
        await services.Admin.ResumeAsync(name, ct) is { } s ? TypedResults.Ok(s) : ScheduleNotFound(name);

    public static async Task<Results<Accepted<JobAccepted>, ProblemHttpResult>> TriggerSchedule(
        string name, [AsParameters] JobsAdminServices services, CancellationToken ct) =>
        await services.Admin.TriggerAsync(name, ct) is { } job
            ? TypedResults.Accepted($"/v1/admin/jobs/{job.Id}", new JobAccepted(job.Id))
            : ScheduleNotFound(name);

    private static ProblemHttpResult JobNotFound(long id) =>
        TypedResults.Problem($"No job with id {id}.", statusCode: StatusCodes.Status404NotFound, title: "Job not found");

    private static ProblemHttpResult ScheduleNotFound(string name) =>
        TypedResults.Problem($"No schedule named '{name}'.", statusCode: StatusCodes.Status404NotFound, title: "Schedule not found");
}

public sealed record CanaryRequest(int? FailTimes, int? MaxAttempts);

public sealed record JobAccepted(long JobId);

public sealed record JobsAdminServices(JobAdmin Admin, IJobQueue JobQueue);
