using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Platform.Core.Jobs;

namespace Microsoft.Extensions.DependencyInjection;

public static class JobsExtensions
{
    /// <summary>Enqueueing and the operator's view of jobs (any service that only puts jobs on the queue).</summary>
    public static IHostApplicationBuilder AddJobQueue(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton<IJobQueue, JobQueue>();
        builder.Services.TryAddSingleton<JobAdmin>();
        return builder;
    }

    /// <summary>Runs the registered handlers and the recurring schedules in this process (settings: <c>Platform:Jobs</c>).</summary>
    public static IHostApplicationBuilder AddJobWorker(this IHostApplicationBuilder builder)
    {
        builder.AddJobQueue();
        builder.Services.AddOptions<JobWorkerOptions>().BindConfiguration(JobWorkerOptions.Section);
        builder.Services.AddHostedService<JobWorker>();
        return builder;
    }

    /// <summary>Registers the handler of <typeparamref name="TArgs"/>'s kind; it is resolved from a fresh scope per run.</summary>
    public static IServiceCollection AddJobHandler<TArgs, THandler>(this IServiceCollection services)
        where TArgs : IJobArgs
        where THandler : class, IJobHandler<TArgs>
    {
        services.TryAddScoped<THandler>();
        services.AddSingleton(JobHandlerRegistration.For<TArgs, THandler>());
        return services;
    }

    /// <summary>
    /// Declares a recurring job: <paramref name="cron"/> is a Quartz cron expression (seconds first) evaluated in UTC,
    /// e.g. <c>0 0/5 * * * ?</c> for every five minutes.
    /// </summary>
    public static IServiceCollection AddRecurringJob<TArgs>(this IServiceCollection services, string name, string cron, TArgs args, JobOptions? options = null)
        where TArgs : IJobArgs
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _ = RecurringSchedules.Parse(cron); // a bad expression fails at start-up, not at the first tick
        services.AddSingleton(new RecurringJobDefinition(
            name, cron, TArgs.Kind, System.Text.Json.JsonSerializer.Serialize(args, JobQueue.Json), TArgs.Version, options ?? JobOptions.Default));
        return services;
    }

    /// <summary>Declares a recurring job by kind name, for a kind whose args type this service does not reference.</summary>
    public static IServiceCollection AddRecurringJob(
        this IServiceCollection services, string name, string cron, string kind, object args, JobOptions? options = null, int argsVersion = 1)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(kind);
        _ = RecurringSchedules.Parse(cron);
        services.AddSingleton(new RecurringJobDefinition(
            name, cron, kind, System.Text.Json.JsonSerializer.Serialize(args, JobQueue.Json), argsVersion, options ?? JobOptions.Default));
        return services;
    }
}
