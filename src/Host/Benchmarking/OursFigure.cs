using DataflowContrastive.Augment;

namespace DataflowContrastive.Host.Benchmarking;

/// <summary>Our decode and augmentation throughput at one output size.</summary>
/// <param name="Size">Output side in pixels.</param>
/// <param name="Images">Images transformed in the timed passes (rejections included).</param>
/// <param name="Rejected">Images rejected as bad data.</param>
/// <param name="Seconds">Wall time of the timed passes.</param>
/// <param name="Cores">Cores the work could use: the smaller of the workers and the machine's cores.</param>
public sealed record OursFigure(int Size, int Images, int Rejected, double Seconds, int Cores)
{
    /// <summary>Images per second of wall time.</summary>
    public double ImagesPerSecond => Images / Seconds;

    /// <summary>Images per second per core used.</summary>
    public double ImagesPerSecondPerCore => ImagesPerSecond / Cores;

    /// <summary>The figure of <paramref name="result"/>, spread over <paramref name="cores"/> cores.</summary>
    public static OursFigure From(AugmentBenchmarkResult result, int cores)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cores);
        return new OursFigure(result.ImageSize, result.Images, result.Rejected, result.Seconds, cores);
    }
}
