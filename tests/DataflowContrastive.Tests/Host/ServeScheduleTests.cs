using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Host.Serving;

namespace DataflowContrastive.Tests.Host;

/// <summary>
/// The expected times are worked out by hand. Berlin is UTC+1 in winter and UTC+2 in summer; in 2027 summer time
/// starts on Sunday 28 March (02:00 local becomes 03:00, at 01:00 UTC) and ends on Sunday 31 October (03:00 local
/// becomes 02:00, at 01:00 UTC).
/// </summary>
public sealed class ServeScheduleTests
{
    private static DateTimeOffset Utc(int month, int day, int hour, int minute, int second = 0) =>
        new(2027, month, day, hour, minute, second, TimeSpan.Zero);

    [Fact]
    public void A_daily_local_time_follows_the_time_zone_across_both_daylight_saving_changes()
    {
        var schedule = new ServeSchedule("30 2 * * *", "Europe/Berlin");

        // 02:30 CET = 01:30 UTC; on the 28th 02:30 does not exist and it fires as the clock jumps, at 03:00 CEST =
        // 01:00 UTC; then 02:30 CEST = 00:30 UTC.
        Assert.Equal(Utc(3, 27, 1, 30), schedule.Next(Utc(3, 26, 12, 0)));
        Assert.Equal(Utc(3, 28, 1, 0), schedule.Next(Utc(3, 27, 1, 30)));
        Assert.Equal(Utc(3, 29, 0, 30), schedule.Next(Utc(3, 28, 1, 0)));

        // On 31 October 02:30 happens twice (CEST, then CET); a daily job runs once, at the first: 00:30 UTC. The
        // next day 02:30 CET = 01:30 UTC.
        Assert.Equal(Utc(10, 31, 0, 30), schedule.Next(Utc(10, 30, 12, 0)));
        Assert.Equal(Utc(11, 1, 1, 30), schedule.Next(Utc(10, 31, 0, 30)));
    }

    [Fact]
    public void Six_fields_read_the_first_as_seconds()
    {
        var schedule = new ServeSchedule("15 */10 * * * *", "UTC");

        Assert.Equal(Utc(1, 4, 10, 10, 15), schedule.Next(Utc(1, 4, 10, 0, 15)));
    }

    [Fact]
    public async Task On_a_fake_clock_the_schedule_starts_passes_at_its_times_and_not_before()
    {
        var clock = new FakeClock(Utc(3, 27, 0, 0));
        PipelineDefinition definition = PipelineFileReader.Parse("""
            source: { shards: in }
            serve: { schedule: "30 2 * * *", time_zone: Europe/Berlin }
            """, Path.Combine(Path.GetTempPath(), "scheduled.yaml"));
        using var triggers = new ServeTriggers(definition, clock);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        foreach (DateTimeOffset expected in new[] { Utc(3, 27, 1, 30), Utc(3, 28, 1, 0), Utc(3, 29, 0, 30) })
        {
            Task<string> next = triggers.WaitAsync(stop.Token);
            await clock.AdvanceStepwiseAsync(expected - TimeSpan.FromSeconds(1));
            await Task.Delay(50);
            Assert.False(next.IsCompleted, $"fired before {expected:O}");

            await clock.AdvanceStepwiseAsync(expected);
            Assert.Equal("schedule", await next.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal(expected, clock.GetUtcNow());
        }
    }

    [Theory]
    [InlineData("serve:\n  schedule: \"61 * * * *\"\n", "serve.schedule", "not a cron expression")]
    [InlineData("serve:\n  time_zone: Mars/Olympus\n", "serve.time_zone", "unknown time zone 'Mars/Olympus'")]
    public void A_bad_schedule_or_time_zone_is_refused_with_its_line(string serve, string key, string reason)
    {
        string yaml = "source: { shards: in }\n" + serve;

        PipelineFileException e = Assert.Throws<PipelineFileException>(() =>
            PipelineFileReader.Parse(yaml, Path.Combine(Path.GetTempPath(), "bad.yaml")));

        PipelineFileError error = Assert.Single(e.Errors);
        Assert.Equal(key, error.Key);
        Assert.Equal(3, error.Line);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
    }
}
