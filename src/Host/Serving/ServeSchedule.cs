using Cronos;

namespace DataflowContrastive.Host.Serving;

/// <summary>
/// A pipeline's <c>serve.schedule</c>: a cron expression read in a time zone, so that "at 02:30 every day" stays at
/// 02:30 local time across daylight-saving changes. Waits go through a <see cref="TimeProvider"/>, so a test's fake
/// clock fires them. A local time skipped by a spring-forward change fires once at the first instant after the gap,
/// and one repeated by a fall-back change fires once, at its first occurrence (Cronos's rules).
/// </summary>
public sealed class ServeSchedule
{
    private readonly CronExpression _expression;
    private readonly TimeZoneInfo _zone;

    /// <summary>Reads <paramref name="cron"/> in the IANA zone <paramref name="timeZone"/>.</summary>
    public ServeSchedule(string cron, string timeZone)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(cron);
        ArgumentException.ThrowIfNullOrWhiteSpace(timeZone);
        _expression = ParseCron(cron);
        _zone = TimeZoneInfo.FindSystemTimeZoneById(timeZone);
    }

    /// <summary>
    /// Parses five fields (minute hour day month weekday), or six with seconds first; throws
    /// <see cref="CronFormatException"/> on anything else.
    /// </summary>
    public static CronExpression ParseCron(string cron)
    {
        ArgumentNullException.ThrowIfNull(cron);
        int fields = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        return CronExpression.Parse(cron, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
    }

    /// <summary>The first time strictly after <paramref name="after"/> that the schedule fires, or null if never.
    /// </summary>
    public DateTimeOffset? Next(DateTimeOffset after) => _expression.GetNextOccurrence(after, _zone);

    /// <summary>
    /// Waits until the next time after <paramref name="after"/> and returns it, or null when the schedule never
    /// fires again. Long waits are taken in steps of at most an hour, so a clock that jumps is caught up with.
    /// </summary>
    public async Task<DateTimeOffset?> WaitNextAsync(TimeProvider time, DateTimeOffset after,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(time);
        if (Next(after) is not { } next)
        {
            return null;
        }
        for (TimeSpan left = next - time.GetUtcNow(); left > TimeSpan.Zero; left = next - time.GetUtcNow())
        {
            await Task.Delay(left < TimeSpan.FromHours(1) ? left : TimeSpan.FromHours(1), time, cancellationToken);
        }
        return next;
    }
}
