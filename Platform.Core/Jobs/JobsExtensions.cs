using Hangfire;
using Hangfire.Common;
using Hangfire.PostgreSql;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.Core.Jobs;

namespace Microsoft.Extensions.DependencyInjection;

public static class JobsExtensions
{
    /// <summary>
    /// Enqueueing (the outbox) and the operator's view of jobs on Hangfire's storage (any service that puts jobs on
    /// the queue; settings: <c>Platform:Jobs</c>). Hangfire's storage, client and filters are this host's own DI
    /// singletons, never Hangfire's static globals, so several hosts can share a process (tests).
    /// </summary>
    public static IHostApplicationBuilder AddJobQueue(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<JobWorkerOptions>().BindConfiguration(JobWorkerOptions.Section);
        services.TryAddSingleton<IJobQueue, JobQueue>();
        services.TryAddSingleton<JobAdmin>();
        services.TryAddSingleton<JobStateFilter>();
        services.TryAddSingleton<SchedulePauseFilter>();
        services.TryAddSingleton<JobStorage>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<JobWorkerOptions>>().Value;
            return new PostgreSqlStorage(new DataSourceConnectionFactory(sp.GetRequiredService<NpgsqlDataSource>()), new PostgreSqlStorageOptions
            {
                SchemaName = o.Schema,
                // Installed by the schema owner with the migrations (DatabaseSetup): the services' role has no DDL.
                PrepareSchemaIfNecessary = false,
                QueuePollInterval = o.QueuePollInterval,
                EnableLongPolling = o.LongPolling,
                UseSlidingInvisibilityTimeout = true,
                InvisibilityTimeout = o.InvisibilityTimeout,
                DistributedLockTimeout = TimeSpan.FromMinutes(1),
            });
        });
        services.TryAddSingleton<IJobFilterProvider>(sp => new JobFilterProviderCollection(
            JobFilterProviders.Providers,
            new JobFilterCollection { sp.GetRequiredService<JobStateFilter>(), sp.GetRequiredService<SchedulePauseFilter>() }));
        services.TryAddSingleton<JobActivator>(sp => new ScopedJobActivator(sp.GetRequiredService<IServiceScopeFactory>()));
        services.AddHangfire((sp, config) => config
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseLogProvider(new HostLogProvider(sp.GetRequiredService<ILoggerFactory>())));
        return builder;
    }

    /// <summary>
    /// Runs jobs in this process: one Hangfire server per queue with its configured worker count, the outbox relay and
    /// the recurring schedules' declarations.
    /// </summary>
    public static IHostApplicationBuilder AddJobWorker(this IHostApplicationBuilder builder)
    {
        builder.AddJobQueue();
        var services = builder.Services;
        services.TryAddSingleton<JobHandlerCatalog>();
        services.TryAddScoped<JobDispatcher>();
        var options = new JobWorkerOptions();
        builder.Configuration.GetSection(JobWorkerOptions.Section).Bind(options);
        if (options.RelayEnabled)
        {
            services.AddSingleton<JobRelay>();
            services.AddHostedService(sp => sp.GetRequiredService<JobRelay>());
        }
        services.AddHostedService<RecurringSchedules>();
        if (options.ShutdownGrace <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("Platform:Jobs:ShutdownGrace must be more than zero, or running jobs are never cancelled on shutdown.");
        }
        var host = Environment.MachineName.ToLowerInvariant();
        var first = true;
        foreach (var (queue, workers) in options.Queues.Where(q => q.Value > 0).OrderBy(q => q.Key, StringComparer.Ordinal))
        {
            // One server per queue for its own worker count; only the first also runs the schedulers (delayed and
            // recurring jobs) and the storage's housekeeping, the others are Hangfire "lightweight" servers.
            var lightweight = !first;
            first = false;
            if (!JobQueueNames.IsValid(queue))
            {
                throw new InvalidOperationException($"Platform:Jobs:Queues: '{queue}' is not a Hangfire queue name.");
            }
            services.AddHangfireServer((_, server) =>
            {
                server.ServerName = $"{host}:{Environment.ProcessId}:{queue}";
                server.Queues = [queue];
                server.WorkerCount = workers;
                server.IsLightweightServer = lightweight;
                server.SchedulePollingInterval = options.SchedulePollingInterval;
                server.CancellationCheckInterval = options.CancellationCheckInterval;
                // The jobs' tokens fire when the window closes (StopTimeout); the server waits a grace period longer
                // (ShutdownTimeout) so a cancelled run can unwind and Hangfire can requeue its job before it lets go.
                server.StopTimeout = options.ShutdownTimeout;
                server.ShutdownTimeout = options.ShutdownTimeout + options.ShutdownGrace;
            });
        }
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
    /// Declares a recurring job (a Hangfire recurring job of the same name): <paramref name="cron"/> has five fields, or
    /// six with seconds first (e.g. <c>0/30 * * * * ?</c>), and is evaluated in UTC. A bad expression fails at start.
    /// </summary>
    public static IServiceCollection AddRecurringJob<TArgs>(this IServiceCollection services, string name, string cron, TArgs args, int maxAttempts = 3)
        where TArgs : IJobArgs
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(cron);
        services.AddSingleton(new RecurringJobDefinition(
            name, cron, TArgs.Kind, System.Text.Json.JsonSerializer.Serialize(args, JobQueue.Json), TArgs.Version, TArgs.Queue, maxAttempts));
        return services;
    }
}

/// <summary>Hangfire.PostgreSql takes its connections from the platform's data source (one pool, one configuration).</summary>
internal sealed class DataSourceConnectionFactory(NpgsqlDataSource dataSource) : IConnectionFactory
{
    public NpgsqlConnection GetOrCreateConnection() => dataSource.CreateConnection();
}

/// <summary>Creates job instances from a DI scope per run.</summary>
internal sealed class ScopedJobActivator(IServiceScopeFactory scopes) : JobActivator
{
    public override JobActivatorScope BeginScope(JobActivatorContext context) => new Scope(scopes.CreateScope());

    private sealed class Scope(IServiceScope scope) : JobActivatorScope
    {
        public override object Resolve(Type type) => ActivatorUtilities.GetServiceOrCreateInstance(scope.ServiceProvider, type);

        public override void DisposeScope() => scope.Dispose();
    }
}
