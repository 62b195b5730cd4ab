using System.Diagnostics;

namespace Platform.Core.Data;

/// <summary>
/// StackExchange.Redis has no ActivitySource of its own, so the platform wraps the Redis calls it makes.
/// </summary>
public static class RedisTelemetry
{
    public static readonly ActivitySource Source = new("Platform.Redis");

    public static Activity? Start(string command, string? key = null)
    {
        var activity = Source.StartActivity("redis " + command, ActivityKind.Client);
        if (activity is not null)
        {
            activity.SetTag("db.system.name", "redis");
            activity.SetTag("db.operation.name", command);
            if (key is not null)
            {
                activity.SetTag("db.collection.name", key);
            }
        }
        return activity;
    }
}
