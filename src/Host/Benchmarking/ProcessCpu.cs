using System.Diagnostics;
using System.Globalization;

namespace DataflowContrastive.Host.Benchmarking;

/// <summary>CPU time used so far by this process and by its children that have ended.</summary>
/// <param name="Self">User and system time of this process.</param>
/// <param name="Children">User and system time of ended children, and of their ended children.</param>
public readonly record struct CpuTimes(TimeSpan Self, TimeSpan Children)
{
    /// <summary>Clock ticks per second in <c>/proc</c>: 100 on every Linux build the project runs on.</summary>
    private const double TicksPerSecond = 100;

    /// <summary>
    /// Reads <c>/proc/self/stat</c> (Linux); null elsewhere. Children count once they have been waited for, which
    /// <see cref="Process"/> does when it reports an exit, and Python does for its DataLoader workers.
    /// </summary>
    public static CpuTimes? Read() =>
        File.Exists("/proc/self/stat") ? Parse(File.ReadAllText("/proc/self/stat")) : null;

    /// <summary>
    /// Parses a <c>/proc/PID/stat</c> line: after the command name in parentheses come the state (field 3) and
    /// then numbers; fields 14 to 17 are utime, stime, cutime and cstime in clock ticks.
    /// </summary>
    public static CpuTimes Parse(string stat)
    {
        ArgumentNullException.ThrowIfNull(stat);
        string[] fields = stat[(stat.LastIndexOf(')') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Debug.Assert(fields.Length >= 15, "the kernel writes more than 50 fields");
        return new CpuTimes(Ticks(fields[11]) + Ticks(fields[12]), Ticks(fields[13]) + Ticks(fields[14]));
    }

    private static TimeSpan Ticks(string field) =>
        TimeSpan.FromSeconds(long.Parse(field, NumberStyles.None, CultureInfo.InvariantCulture) / TicksPerSecond);
}

/// <summary>
/// Measures how busy a piece of work kept the CPU: CPU seconds per second of wall time. On a machine shared with
/// other work this tells a slow figure caused by the code from one caused by too little CPU.
/// </summary>
public sealed class CpuShareClock
{
    private readonly bool _children;
    private readonly CpuTimes? _start = CpuTimes.Read();
    private readonly Stopwatch _wall = Stopwatch.StartNew();

    private CpuShareClock(bool children) => _children = children;

    /// <summary>Starts measuring this process's own CPU time.</summary>
    public static CpuShareClock ForSelf() => new(children: false);

    /// <summary>Starts measuring the CPU time of children that end from now on.</summary>
    public static CpuShareClock ForChildren() => new(children: true);

    /// <summary>CPU seconds used per wall second since the start; null where <c>/proc</c> is missing.</summary>
    public double? Share()
    {
        double wall = _wall.Elapsed.TotalSeconds;
        if (_start is not { } start || CpuTimes.Read() is not { } now || wall <= 0)
        {
            return null;
        }
        TimeSpan used = _children ? now.Children - start.Children : now.Self - start.Self;
        return used.TotalSeconds / wall;
    }
}
