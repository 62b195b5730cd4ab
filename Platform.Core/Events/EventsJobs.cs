using Microsoft.Extensions.Logging;
using Platform.Core.Jobs;

namespace Platform.Core.Events;

/// <summary>Batch (whole conference) or incremental (one attendee) match calculation; idempotent: it replaces stored rows.</summary>
internal sealed partial class MatchCalculationHandler(Matchmaking matching) : IJobHandler<MatchCalculationArgs>
{
    public async Task HandleAsync(MatchCalculationArgs args, JobContext context)
    {
        var started = TimeProvider.System.GetTimestamp();
        var count = await matching.CalculateAsync(args.TenantId, args.ConferenceId, args.UserId, context.CancellationToken, args.StaleOnly);
        LogDone(context.Logger, args.ConferenceId, count, TimeProvider.System.GetElapsedTime(started).TotalMilliseconds);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Match calculation for conference {ConferenceId}: {Count} attendees in {Milliseconds} ms")]
    private static partial void LogDone(ILogger logger, Guid conferenceId, int count, double milliseconds);
}

/// <summary>Builds an intelligence report; a re-run rewrites the same row.</summary>
internal sealed class IntelligenceReportHandler(IntelligenceReports reports) : IJobHandler<IntelligenceReportArgs>
{
    public Task HandleAsync(IntelligenceReportArgs args, JobContext context) => reports.BuildAsync(args.TenantId, args.ReportId, context.CancellationToken);
}
