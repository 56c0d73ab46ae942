namespace DataflowContrastive.Host.Benchmarking;

/// <summary>tjbench's full-size decode rate on one core over a few files.</summary>
/// <param name="Files">The JPEG files decoded.</param>
/// <param name="Decodes">What tjbench measured on each, in the same order.</param>
/// <param name="CpuShare">CPU seconds per wall second of the tjbench runs (at most 1); null when unknown.</param>
public sealed record TjbenchFigure(IReadOnlyList<string> Files, IReadOnlyList<TjbenchDecode> Decodes,
    double? CpuShare = null)
{
    /// <summary>Full-size images decoded per second on one core, over the files each decoded once.</summary>
    public double ImagesPerSecond => TjbenchDecode.CombinedImagesPerSecond([.. Decodes]);

    /// <summary>
    /// Full-size images decoded per second of CPU time: what one core does when nothing else wants it.
    /// </summary>
    public double? ImagesPerCpuSecond => CpuShare > 0 ? ImagesPerSecond / CpuShare : null;

    /// <summary>Millions of pixels decoded per second on one core, over the files each decoded once.</summary>
    public double MegapixelsPerSecond =>
        Decodes.Sum(d => (double)d.Width * d.Height) / 1e6 / Decodes.Sum(d => 1 / d.ImagesPerSecond);
}
