using System.Reflection;
using System.Text.Json;
using Platform.Core.Jobs;

namespace Platform.Tests.Unit;

/// <summary>
/// A job kind whose queue the Worker does not serve is accepted, stored and then never runs: nothing fails, the job
/// just waits forever. The Worker's shipped configuration must serve every queue a job kind declares.
/// </summary>
public sealed class WorkerQueuesTests
{
    private static string QueueOf<T>() where T : IJobArgs => T.Queue;

    private static IEnumerable<Type> JobKinds() =>
        typeof(IJobArgs).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && !t.IsInterface && typeof(IJobArgs).IsAssignableFrom(t));

    private static HashSet<string> ServedQueues()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Platform.sln")))
        {
            dir = dir.Parent;
        }
        Assert.NotNull(dir);
        using var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.FullName, "Platform.Worker", "appsettings.json")),
            new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        return settings.RootElement.GetProperty("Platform").GetProperty("Jobs").GetProperty("Queues")
            .EnumerateObject().Where(q => q.Value.GetInt32() > 0).Select(q => q.Name).ToHashSet();
    }

    [Fact]
    public void Every_job_kind_runs_on_a_queue_the_worker_serves()
    {
        var served = ServedQueues();
        var method = typeof(WorkerQueuesTests).GetMethod(nameof(QueueOf), BindingFlags.NonPublic | BindingFlags.Static)!;
        var kinds = JobKinds().ToList();
        Assert.NotEmpty(kinds);
        var unserved = kinds.Select(t => (Type: t, Queue: (string)method.MakeGenericMethod(t).Invoke(null, null)!))
            .Where(k => !served.Contains(k.Queue)).Select(k => $"{k.Type.Name} → {k.Queue}").ToList();
        Assert.True(unserved.Count == 0, "Queues the Worker does not serve: " + string.Join(", ", unserved));
    }

    [Fact]
    public void No_service_sends_a_job_to_a_queue_the_worker_leaves_unserved()
    {
        // An explicit JobOptions.Queue overrides the kind's own queue; every literal one in the services must be served.
        var served = ServedQueues();
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(dir!.FullName, "Platform.sln")))
        {
            dir = dir.Parent;
        }
        var overrides = new[] { "Platform.Api", "Platform.Core", "Platform.Worker" }
            .SelectMany(p => Directory.EnumerateFiles(Path.Combine(dir.FullName, p), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(f), "JobOptions\\s*\\{[^}]*Queue\\s*=\\s*\"([^\"]+)\"")
                .Select(m => (File: Path.GetFileName(f), Queue: m.Groups[1].Value)))
            .Where(o => !served.Contains(o.Queue)).Select(o => $"{o.File} → {o.Queue}").ToList();
        Assert.True(overrides.Count == 0, "Queues the Worker does not serve: " + string.Join(", ", overrides));
    }
}
