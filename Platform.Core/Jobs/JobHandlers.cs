using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Platform.Core.Jobs;

/// <summary>One registered kind: how to turn stored JSON into typed args and call the handler.</summary>
public sealed class JobHandlerRegistration(string kind, string queue, int version, Func<IServiceProvider, string, int, JobContext, Task> invoke)
{
    public string Kind { get; } = kind;
    public string Queue { get; } = queue;
    public int Version { get; } = version;

    internal Task InvokeAsync(IServiceProvider services, string argsJson, int argsVersion, JobContext context) =>
        invoke(services, argsJson, argsVersion, context);

    internal static JobHandlerRegistration For<TArgs, THandler>()
        where TArgs : IJobArgs
        where THandler : class, IJobHandler<TArgs> =>
        new(TArgs.Kind, TArgs.Queue, TArgs.Version, static (services, json, version, context) =>
        {
            var args = Deserialize<TArgs>(json, version);
            return services.GetRequiredService<THandler>().HandleAsync(args, context);
        });

    internal static TArgs Deserialize<TArgs>(string json, int version) where TArgs : IJobArgs
    {
        if (version > TArgs.Version)
        {
            // Written by a newer build: fail this attempt so a worker that knows the shape can take it.
            throw new InvalidOperationException(
                $"Job args of '{TArgs.Kind}' have version {version}; this worker understands up to {TArgs.Version}.");
        }
        if (version < TArgs.Version)
        {
            using var doc = JsonDocument.Parse(json);
            return TArgs.Upgrade(doc.RootElement.Clone(), version).Deserialize<TArgs>(JobQueue.Json)
                ?? throw new InvalidOperationException($"Job args of '{TArgs.Kind}' are null.");
        }
        return JsonSerializer.Deserialize<TArgs>(json, JobQueue.Json)
            ?? throw new InvalidOperationException($"Job args of '{TArgs.Kind}' are null.");
    }
}

/// <summary>A recurring job declared in code; the Worker declares it to Hangfire (AddOrUpdate) at start.</summary>
public sealed record RecurringJobDefinition(string Name, string Cron, string Kind, string ArgsJson, int ArgsVersion, string Queue, int MaxAttempts);
