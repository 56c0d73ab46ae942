using System.Diagnostics;
using DataflowContrastive.Augment;

namespace DataflowContrastive.Host.Benchmarking;

/// <summary>
/// Runs our decode and augmentation continuously over files held in memory and samples the process's resident
/// memory at a fixed interval, to show whether it stays flat over a long run.
/// </summary>
public static class MemoryWatch
{
    /// <summary>
    /// Transforms the files over and over with <paramref name="workers"/> threads for <paramref name="duration"/>,
    /// sampling the resident set size (<see cref="Environment.WorkingSet"/>) at the start and every
    /// <paramref name="interval"/>.
    /// </summary>
    public static async Task<IReadOnlyList<MemorySample>> RunAsync(IReadOnlyList<string> files,
        AugmentOptions augment, DecodeOptions decode, int workers, TimeSpan duration, TimeSpan interval,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(workers);
        byte[][] encoded = [.. files.Select(File.ReadAllBytes)];
        var transform = new ImageTransform(augment, decode);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task work = Task.Factory.StartNew(() => TransformUntilStopped(transform, encoded, workers, stop.Token),
            stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        var samples = new List<MemorySample>();
        Stopwatch clock = Stopwatch.StartNew();
        samples.Add(new MemorySample(0, Environment.WorkingSet));
        using var timer = new PeriodicTimer(interval);
        while (clock.Elapsed < duration && !work.IsCompleted && await timer.WaitForNextTickAsync(cancellationToken))
        {
            samples.Add(new MemorySample(clock.Elapsed.TotalSeconds, Environment.WorkingSet));
        }

        await stop.CancelAsync();
        try
        {
            await work;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The end of the run, asked for above; a fault in the work would have come through instead.
        }
        return samples;
    }

    private static void TransformUntilStopped(ImageTransform transform, byte[][] encoded, int workers,
        CancellationToken token)
    {
        var options = new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = token };
        for (int epoch = 0; ; epoch++)
        {
            Parallel.For(0, encoded.Length, options, () => new float[transform.OutputLength], (i, _, output) =>
            {
                try
                {
                    transform.ApplyTrain(encoded[i], new SampleSeed(0, epoch, i, 0), output);
                }
                catch (ImageRejectedException)
                {
                    // Bad files are counted by the timed benchmark; here only memory matters.
                }
                return output;
            }, _ => { });
        }
    }
}
