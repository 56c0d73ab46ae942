using DataflowContrastive.Augment;

namespace DataflowContrastive.Host.Benchmarking;

/// <summary>Our decode and augmentation throughput at one output size.</summary>
/// <param name="Size">Output side in pixels.</param>
/// <param name="Images">Images transformed in the timed passes (rejections included).</param>
/// <param name="Rejected">Images rejected as bad data.</param>
/// <param name="Seconds">Wall time of the timed passes.</param>
/// <param name="Cores">Cores the work could use: the smaller of the workers and the machine's cores.</param>
/// <param name="CpuShare">CPU seconds per wall second over the whole measure, warm-up included; null unknown.</param>
public sealed record OursFigure(int Size, int Images, int Rejected, double Seconds, int Cores, double? CpuShare = null)
{
    /// <summary>Images per second of wall time.</summary>
    public double ImagesPerSecond => Images / Seconds;

    /// <summary>Images per second per core used.</summary>
    public double ImagesPerSecondPerCore => ImagesPerSecond / Cores;

    /// <summary>
    /// Images per second of CPU time: the wall rate over the average number of busy cores. Unlike the rate per
    /// core, it does not fall when other work on the machine takes the cores away.
    /// </summary>
    public double? ImagesPerCpuSecond => CpuShare > 0 ? ImagesPerSecond / CpuShare : null;

    /// <summary>The figure of <paramref name="result"/>, spread over <paramref name="cores"/> cores.</summary>
    public static OursFigure From(AugmentBenchmarkResult result, int cores, double? cpuShare)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cores);
        return new OursFigure(result.ImageSize, result.Images, result.Rejected, result.Seconds, cores, cpuShare);
    }
}
