using DataflowContrastive.Train;

namespace DataflowContrastive.Tests.Train;

public class LearningRateScheduleTests
{
    // Warm-up of 10 steps, 110 in all, so the cosine part spans 100 steps. Values by hand:
    // warm-up step s gives (s+1)/10; cosine step e gives (1 + cos(pi e / 100)) / 2.
    [Theory]
    [InlineData(0, 0.1)]
    [InlineData(4, 0.5)]
    [InlineData(9, 1.0)]
    [InlineData(10, 1.0)]
    [InlineData(35, 0.8535533905932737)] // e = 25: (1 + cos(pi/4)) / 2
    [InlineData(60, 0.5)] // e = 50: (1 + cos(pi/2)) / 2
    [InlineData(85, 0.1464466094067262)] // e = 75: (1 + cos(3pi/4)) / 2
    [InlineData(110, 0.0)]
    [InlineData(500, 0.0)]
    public void Warm_up_then_cosine_gives_hand_computed_rates(int step, double expected)
    {
        Assert.Equal(expected, LearningRateSchedule.At(step, 10, 110, 1.0), 12);
    }

    [Fact]
    public void Without_warm_up_the_first_step_uses_the_peak()
    {
        Assert.Equal(2e-3, LearningRateSchedule.At(0, 0, 4, 2e-3), 15);
        Assert.Equal(1e-3, LearningRateSchedule.At(2, 0, 4, 2e-3), 15);
    }

    [Fact]
    public void Negative_step_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.At(-1, 10, 100, 1e-3));
    }
}
