using System.Threading.Channels;
using DataflowContrastive.Host.Pipelines;

namespace DataflowContrastive.Host.Serving;

/// <summary>
/// What starts a served pipeline's next pass: its schedule, a file appearing in a watched source folder, the
/// periodic rescan that catches what a file-system watcher missed (watchers drop events when their buffer fills), or
/// a pass that asked to look again soon. Triggers that arrive while a pass runs fold into one further pass.
/// </summary>
public sealed class ServeTriggers : IDisposable
{
    private readonly Channel<string> _pending = Channel.CreateBounded<string>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly List<FileSystemWatcher> _watchers = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeProvider _time;
    private readonly List<Task> _loops = [];

    /// <summary>Starts the triggers that <paramref name="definition"/>'s <c>serve</c> keys ask for.</summary>
    public ServeTriggers(PipelineDefinition definition, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        ServeSettings serve = definition.Serve;
        if (serve.Schedule is { } cron)
        {
            _loops.Add(ScheduleLoopAsync(new ServeSchedule(cron, serve.TimeZone)));
        }
        if (serve.Watch)
        {
            Watch(WatchRoots(definition));
            _loops.Add(EveryAsync(serve.Rescan, "rescan"));
        }
    }

    /// <summary>Asks for a pass after <paramref name="delay"/> (a shard that was still being written).</summary>
    public void Soon(TimeSpan delay)
    {
        _loops.RemoveAll(t => t.IsCompleted);
        _loops.Add(AfterAsync(delay, "settle"));
    }

    /// <summary>Waits for the next trigger and returns what it was.</summary>
    public async Task<string> WaitAsync(CancellationToken cancellationToken) =>
        await _pending.Reader.ReadAsync(cancellationToken);

    /// <summary>
    /// The folders a watch covers: each <c>source.shards</c> entry up to its first wildcard, or a file's folder.
    /// </summary>
    public static IReadOnlyList<string> WatchRoots(PipelineDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var roots = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string entry in definition.Source.Shards)
        {
            int wildcard = entry.IndexOfAny(['*', '?', '[']);
            string root = wildcard < 0 ? entry : Path.GetDirectoryName(entry[..wildcard] + "x") ?? entry;
            roots.Add(File.Exists(root) ? Path.GetDirectoryName(root)! : root);
        }
        return [.. roots];
    }

    public void Dispose()
    {
        _stop.Cancel();
        foreach (FileSystemWatcher watcher in _watchers)
        {
            watcher.Dispose();
        }
        _stop.Dispose();
    }

    // A folder that does not exist yet cannot be watched; the periodic rescan covers it until it does.
    private void Watch(IReadOnlyList<string> roots)
    {
        foreach (string root in roots.Where(Directory.Exists))
        {
            var watcher = new FileSystemWatcher(root)
            {
                IncludeSubdirectories = true,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size,
                InternalBufferSize = 64 * 1024,
            };
            watcher.Created += (_, _) => Fire("watch");
            watcher.Renamed += (_, _) => Fire("watch");
            watcher.Changed += (_, _) => Fire("watch");
            watcher.Error += (_, _) => Fire("watch-overflow");
            watcher.EnableRaisingEvents = true;
            _watchers.Add(watcher);
        }
    }

    private void Fire(string reason) => _pending.Writer.TryWrite(reason);

    private async Task ScheduleLoopAsync(ServeSchedule schedule)
    {
        DateTimeOffset after = _time.GetUtcNow();
        try
        {
            while (await schedule.WaitNextAsync(_time, after, _stop.Token) is { } fired)
            {
                Fire("schedule");
                after = fired;
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Disposed: the pipeline stopped.
        }
    }

    private async Task EveryAsync(TimeSpan interval, string reason)
    {
        try
        {
            using var timer = new PeriodicTimer(interval, _time);
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                Fire(reason);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Disposed: the pipeline stopped.
        }
    }

    private async Task AfterAsync(TimeSpan delay, string reason)
    {
        try
        {
            await Task.Delay(delay, _time, _stop.Token);
            Fire(reason);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Disposed: the pipeline stopped.
        }
    }
}
