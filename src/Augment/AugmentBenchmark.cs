using System.Diagnostics;

namespace DataflowContrastive.Augment;

/// <summary>What one benchmark run measured.</summary>
/// <param name="Recipe">Recipe used.</param>
/// <param name="ImageSize">Output side.</param>
/// <param name="Parallelism">Images processed at once.</param>
/// <param name="Images">Images transformed in the timed part (rejections included).</param>
/// <param name="Rejected">Images rejected as bad data.</param>
/// <param name="Seconds">Wall time of the timed part.</param>
public sealed record AugmentBenchmarkResult(
    string Recipe, int ImageSize, int Parallelism, int Images, int Rejected, double Seconds)
{
    /// <summary>Images per second of wall time.</summary>
    public double ImagesPerSecond => Images / Seconds;
}

/// <summary>
/// Measures decode plus training augmentation throughput over files already read into memory, so that disk
/// speed is left out. Each worker owns its output buffer; views are seeded as in training.
/// </summary>
public static class AugmentBenchmark
{
    /// <summary>
    /// Transforms every file <paramref name="passes"/> times with <paramref name="parallelism"/> workers, after one
    /// untimed warm-up pass, and reports images per second.
    /// </summary>
    public static AugmentBenchmarkResult Run(IReadOnlyList<string> files, AugmentOptions augment,
        DecodeOptions decode, int parallelism, int passes = 3, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentOutOfRangeException.ThrowIfZero(files.Count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(parallelism);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(passes);
        ImageTransform transform = new(augment, decode);
        byte[][] encoded = [.. files.Select(File.ReadAllBytes)];

        RunPasses(transform, encoded, parallelism, 1, cancellationToken);
        Stopwatch clock = Stopwatch.StartNew();
        int rejected = RunPasses(transform, encoded, parallelism, passes, cancellationToken);
        clock.Stop();

        return new AugmentBenchmarkResult(augment.Recipe, augment.ImageSize, parallelism, encoded.Length * passes,
            rejected, clock.Elapsed.TotalSeconds);
    }

    private static int RunPasses(
        ImageTransform transform, byte[][] encoded, int parallelism, int passes, CancellationToken token)
    {
        int rejected = 0;
        ParallelOptions options = new() { MaxDegreeOfParallelism = parallelism, CancellationToken = token };
        Parallel.For(0, encoded.Length * passes, options, () => new float[transform.OutputLength], (i, _, output) =>
        {
            try
            {
                transform.ApplyTrain(encoded[i % encoded.Length], new SampleSeed(0, i / encoded.Length, i, 0), output);
            }
            catch (ImageRejectedException)
            {
                Interlocked.Increment(ref rejected);
            }
            return output;
        }, _ => { });
        return rejected;
    }
}
