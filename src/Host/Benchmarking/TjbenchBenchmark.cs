using System.Globalization;

namespace DataflowContrastive.Host.Benchmarking;

/// <summary>What running tjbench gave: its figure, or why there is none.</summary>
/// <param name="Figure">The decode rate; null when it could not be measured.</param>
/// <param name="Problem">Why it could not be measured; null when it was.</param>
public sealed record TjbenchOutcome(TjbenchFigure? Figure, string? Problem);

/// <summary>
/// Runs libjpeg-turbo's <c>tjbench</c> on the JPEG files: the raw full-size decode rate of one core, the
/// yardstick for our decode plus augmentation per core. It decodes to 4-byte pixels (<c>-rgbx</c>), as our decoder
/// does, and writes no output images (<c>-nowrite</c>).
/// </summary>
public static class TjbenchBenchmark
{
    /// <summary>What to install when tjbench is missing.</summary>
    public const string InstallHint = "tjbench not found: apt-get install libjpeg-turbo-progs";

    /// <summary>
    /// Seconds of decoding all the files share, whatever their number: each is decoded for this share of it, within
    /// <see cref="MinSecondsPerFile"/> and <see cref="MaxSecondsPerFile"/>, after a quarter of that as warm-up.
    /// </summary>
    public const double TotalSeconds = 60;

    /// <summary>The shortest time one file is decoded for.</summary>
    public const double MinSecondsPerFile = 0.25;

    /// <summary>The longest time one file is decoded for.</summary>
    public const double MaxSecondsPerFile = 2;

    /// <summary>Seconds each of <paramref name="files"/> files is decoded for, warm-up left out.</summary>
    public static double SecondsPerFile(int files) =>
        Math.Clamp(TotalSeconds / Math.Max(1, files), MinSecondsPerFile, MaxSecondsPerFile);

    /// <summary>Up to <paramref name="count"/> JPEG files taken evenly spread from <paramref name="files"/>.</summary>
    public static IReadOnlyList<string> Pick(IReadOnlyList<string> files, int count)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        string[] jpegs = [.. files.Where(f => Path.GetExtension(f).ToLowerInvariant() is ".jpg" or ".jpeg")];
        int taken = Math.Min(count, jpegs.Length);
        return [.. Enumerable.Range(0, taken).Select(i => jpegs[i * jpegs.Length / taken])];
    }

    /// <summary>
    /// Decodes each of <paramref name="files"/> for <paramref name="benchSeconds"/> after
    /// <paramref name="warmupSeconds"/> of warm-up, one file after another on one core.
    /// </summary>
    public static async Task<TjbenchOutcome> RunAsync(IReadOnlyList<string> files, double benchSeconds,
        double warmupSeconds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (files.Count == 0)
        {
            return new TjbenchOutcome(null, "no JPEG among the images");
        }

        var decodes = new List<TjbenchDecode>();
        CpuShareClock cpu = CpuShareClock.ForChildren();
        foreach (string file in files)
        {
            string[] arguments = [file, "-benchtime", Text(benchSeconds), "-warmup", Text(warmupSeconds), "-quiet",
                "-nowrite", "-rgbx"];
            ToolRun? run = await ToolProcess.RunAsync("tjbench", arguments, Path.GetTempPath(), cancellationToken);
            if (run is null)
            {
                return new TjbenchOutcome(null, InstallHint);
            }
            try
            {
                decodes.Add(TjbenchOutput.Parse(run.Output));
            }
            catch (FormatException e)
            {
                return new TjbenchOutcome(null, $"{file}: {e.Message}; {run.LastErrorLine}");
            }
        }
        return new TjbenchOutcome(new TjbenchFigure(files, decodes, cpu.Share()), null);
    }

    private static string Text(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
