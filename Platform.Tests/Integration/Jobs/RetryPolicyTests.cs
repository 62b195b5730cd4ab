using Platform.Core.Jobs;

namespace Platform.Tests.Integration.Jobs;

public sealed class RetryPolicyTests
{
    [Theory]
    [InlineData(1, 1.0)]
    [InlineData(2, 16.0)]
    [InlineData(3, 81.0)]
    [InlineData(10, 10_000.0)]
    public void Delay_is_attempt_to_the_fourth_seconds_within_ten_percent(int attempt, double seconds)
    {
        var unit = TimeSpan.FromSeconds(1);
        Assert.Equal(seconds * 0.9, RetryPolicy.Delay(attempt, unit, 0).TotalSeconds, 6);
        Assert.Equal(seconds, RetryPolicy.Delay(attempt, unit, 0.5).TotalSeconds, 6);
        Assert.Equal(seconds * 1.1, RetryPolicy.Delay(attempt, unit, 1).TotalSeconds, 6);
    }
}
