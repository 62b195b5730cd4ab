using Platform.Core.Jobs;

namespace Platform.Worker.Jobs;

/// <summary>The operator's diagnostic job: fails its first FailTimes runs on purpose, then succeeds.</summary>
internal sealed partial class CanaryHandler : IJobHandler<CanaryArgs>
{
    public async Task HandleAsync(CanaryArgs args, JobContext context)
    {
        if (args.HoldMilliseconds > 0)
        {
            await Task.Delay(args.HoldMilliseconds, context.CancellationToken);
        }
        if (context.Attempt <= args.FailTimes)
        {
            throw new CanaryFailureException($"Canary failing on purpose: attempt {context.Attempt} of the first {args.FailTimes} that fail.");
        }
        LogSucceeded(context.Logger, context.JobId, context.Attempt);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Canary job {JobId} succeeded on attempt {Attempt}")]
    private static partial void LogSucceeded(ILogger logger, string jobId, int attempt);
}

internal sealed class CanaryFailureException(string message) : Exception(message);
