namespace Platform.Admin.Components.Shared;

internal static partial class LiveLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "A live refresh failed; the page keeps its last state and tries again")]
    public static partial void TickFailed(ILogger logger, Exception exception);
}
