namespace DataflowContrastive.Host.Benchmarking;

/// <summary>The resident memory of the process at one moment of a long run.</summary>
/// <param name="Seconds">Seconds since the run started.</param>
/// <param name="Bytes">Resident set size in bytes.</param>
public readonly record struct MemorySample(double Seconds, long Bytes);

/// <summary>
/// Whether resident memory stayed flat over a long run. The first minute is warm-up (pools fill, the JIT and the
/// garbage collector settle) and is left out; the largest sample of the next minute is the baseline, and the run is
/// flat when the largest sample of the last minute exceeds it by at most <see cref="Threshold"/>. Runs shorter than
/// three minutes use thirds of their length instead of minutes. Largest samples are compared, not single ones,
/// because the garbage collector makes the resident size saw up and down between collections.
/// </summary>
/// <param name="First">The first sample.</param>
/// <param name="Last">The last sample.</param>
/// <param name="MaxBytes">The largest sample of the whole run, warm-up included.</param>
/// <param name="WarmupSeconds">Seconds left out at the start.</param>
/// <param name="WindowSeconds">Length of the baseline and of the final window.</param>
/// <param name="BaselineMaxBytes">The largest sample in the window after warm-up.</param>
/// <param name="FinalMaxBytes">The largest sample in the last window.</param>
public sealed record MemoryVerdict(MemorySample First, MemorySample Last, long MaxBytes, double WarmupSeconds,
    double WindowSeconds, long BaselineMaxBytes, long FinalMaxBytes)
{
    /// <summary>Largest growth of the final window's peak over the baseline's peak still called flat: 5 %.</summary>
    public const double Threshold = 0.05;

    /// <summary>Growth of the final window's peak over the baseline's peak, as a fraction (0.05 = 5 %).</summary>
    public double Drift => (double)(FinalMaxBytes - BaselineMaxBytes) / BaselineMaxBytes;

    /// <summary>True when <see cref="Drift"/> is at most <see cref="Threshold"/>.</summary>
    public bool Flat => Drift <= Threshold;

    /// <summary>Judges <paramref name="samples"/>, taken in time order over a run; needs at least three.</summary>
    public static MemoryVerdict Judge(IReadOnlyList<MemorySample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentOutOfRangeException.ThrowIfLessThan(samples.Count, 3);
        double length = samples[^1].Seconds - samples[0].Seconds;
        double window = Math.Min(60, length / 3);
        double start = samples[0].Seconds;
        double end = samples[^1].Seconds;

        long baseline = WindowMax(samples, start + window, start + 2 * window);
        long final = WindowMax(samples, end - window, end);
        return new MemoryVerdict(samples[0], samples[^1], samples.Max(s => s.Bytes), window, window, baseline, final);
    }

    // The window is closed at both ends so that a sample on a boundary counts; the windows are never empty because
    // the first sample after the start of each one is taken when none falls inside.
    private static long WindowMax(IReadOnlyList<MemorySample> samples, double from, double to)
    {
        long[] inside = [.. samples.Where(s => s.Seconds >= from && s.Seconds <= to).Select(s => s.Bytes)];
        return inside.Length > 0 ? inside.Max() : samples.First(s => s.Seconds >= from).Bytes;
    }
}
