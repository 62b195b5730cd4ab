using System.Globalization;
using System.Text.Json.Nodes;

namespace Platform.Admin.Services;

/// <summary>The job states of the engine (ARCHITECTURE §6), in the order a job moves through them.</summary>
public static class JobStates
{
    public static readonly string[] All = ["available", "scheduled", "running", "retryable", "completed", "discarded", "cancelled"];
}

public sealed record JobError(int Attempt, DateTime? At, string Error);

public sealed record JobView(
    long Id, string Kind, string Queue, string State, int Attempt, int MaxAttempts,
    DateTime? ScheduledAt, DateTime? CreatedAt, DateTime? FinalizedAt, IReadOnlyList<JobError> Errors, string? Args)
{
    public bool CanRetry => State is "discarded" or "cancelled" or "retryable" or "completed";
    public bool CanCancel => State is "available" or "scheduled" or "retryable" or "running";

    internal static JobView From(JsonNode node) => new(
        node["id"]?.GetValue<long>() ?? 0,
        Text(node["kind"]) ?? "", Text(node["queue"]) ?? "default", Text(node["state"]) ?? "unknown",
        Int(node["attempt"]), Int(node["maxAttempts"]),
        Time(node["scheduledAt"]), Time(node["createdAt"]), Time(node["finalizedAt"]),
        node["errors"] is JsonArray errors
            ? [.. errors.OfType<JsonNode>().Select((e, i) => e is JsonValue
                ? new JobError(i + 1, null, e.ToString())
                : new JobError(e["attempt"] is { } a ? Int(a) : i + 1, Time(e["at"] ?? e["timestamp"]), Text(e["error"] ?? e["message"]) ?? e.ToJsonString()))]
            : [],
        node["args"]?.ToJsonString());

    internal static Page<JobView> PageFrom(JsonNode? node)
    {
        var items = node as JsonArray ?? node?["items"] as JsonArray ?? node?["jobs"] as JsonArray ?? [];
        var next = node is JsonObject ? Text(node["next"] ?? node["nextCursor"] ?? node["cursor"]) : null;
        return new Page<JobView>([.. items.OfType<JsonNode>().Select(From)], string.IsNullOrEmpty(next) ? null : next);
    }

    internal static string? Text(JsonNode? n) => n is null ? null : n.GetValueKind() == System.Text.Json.JsonValueKind.String ? n.GetValue<string>() : n.ToJsonString();

    internal static int Int(JsonNode? n) => n is JsonValue v && v.TryGetValue<int>(out var i) ? i : 0;

    internal static double? Number(JsonNode? n) => n is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;

    internal static DateTime? Time(JsonNode? n) =>
        n is JsonValue v && v.TryGetValue<string>(out var s) && DateTime.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t) ? t : null;
}

/// <summary>Counts per queue × state and the age of each queue's oldest available job (its lag).</summary>
public sealed record JobStats(IReadOnlyList<QueueStats> Queues)
{
    public long Total(string state) => Queues.Sum(q => q.Count(state));

    internal static JobStats From(JsonNode? node)
    {
        var queues = new Dictionary<string, QueueStats>(StringComparer.Ordinal);
        QueueStats Get(string name) => queues.TryGetValue(name, out var q) ? q : queues[name] = new QueueStats(name);

        // Accept both "rows of {queue, state, count}" and "queues with a state → count map".
        var list = node as JsonArray ?? node?["queues"] as JsonArray ?? node?["counts"] as JsonArray;
        if (list is not null)
        {
            foreach (var item in list.OfType<JsonObject>())
            {
                var q = Get(JobView.Text(item["queue"] ?? item["name"]) ?? "default");
                if (item["state"] is not null)
                {
                    q.Counts[JobView.Text(item["state"])!] = (long)(JobView.Number(item["count"]) ?? 0);
                }
                foreach (var map in new[] { item["counts"], item["states"] }.OfType<JsonObject>())
                {
                    foreach (var (state, value) in map)
                    {
                        q.Counts[state] = (long)(JobView.Number(value) ?? 0);
                    }
                }
                q.OldestAvailableAgeSeconds ??= AgeSeconds(item);
            }
        }
        else if (node?["queues"] is JsonObject byName)
        {
            foreach (var (name, value) in byName)
            {
                var q = Get(name);
                if (value is JsonObject map)
                {
                    foreach (var (state, n) in map.Where(p => JobStates.All.Contains(p.Key)))
                    {
                        q.Counts[state] = (long)(JobView.Number(n) ?? 0);
                    }
                    q.OldestAvailableAgeSeconds = AgeSeconds(map);
                }
            }
        }
        if (node is JsonObject root && root["oldestAvailable"] is JsonObject ages)
        {
            foreach (var (name, value) in ages)
            {
                Get(name).OldestAvailableAgeSeconds = JobView.Number(value);
            }
        }
        return new JobStats([.. queues.Values.OrderBy(q => q.Queue, StringComparer.Ordinal)]);
    }

    private static double? AgeSeconds(JsonObject o) =>
        JobView.Number(o["oldestAvailableAgeSeconds"] ?? o["oldestAvailableAge"] ?? o["lagSeconds"]);
}

public sealed class QueueStats(string queue)
{
    public string Queue { get; } = queue;
    public Dictionary<string, long> Counts { get; } = new(StringComparer.Ordinal);
    public double? OldestAvailableAgeSeconds { get; set; }
    public long Count(string state) => Counts.TryGetValue(state, out var n) ? n : 0;
    public long Depth => Count("available") + Count("retryable") + Count("scheduled");
}

public sealed record ScheduleView(string Name, string Cron, string Kind, string Queue, bool Paused, DateTime? NextFireAt, DateTime? LastFireAt)
{
    internal static IReadOnlyList<ScheduleView> ListFrom(JsonNode? node)
    {
        var items = node as JsonArray ?? node?["items"] as JsonArray ?? node?["schedules"] as JsonArray ?? [];
        return [.. items.OfType<JsonObject>().Select(s => new ScheduleView(
            JobView.Text(s["name"]) ?? "", JobView.Text(s["cron"]) ?? "", JobView.Text(s["kind"]) ?? "", JobView.Text(s["queue"]) ?? "default",
            s["paused"] is JsonValue p && p.TryGetValue<bool>(out var b) && b,
            JobView.Time(s["nextFireAt"]), JobView.Time(s["lastFireAt"])))];
    }
}
