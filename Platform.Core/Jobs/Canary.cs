namespace Platform.Core.Jobs;

/// <summary>
/// A diagnostic job: fails its first <see cref="FailTimes"/> runs on purpose, so an operator can watch retries,
/// discards and replays end to end. <see cref="HoldMilliseconds"/> keeps it running for a while (lease tests).
/// </summary>
public sealed record CanaryArgs(int FailTimes = 0, int HoldMilliseconds = 0) : IJobArgs
{
    public static string Kind => "ops.canary";
}
