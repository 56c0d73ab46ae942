namespace DataflowContrastive.Host.Benchmarking;

/// <summary>tjbench's full-size decode rate on one core over a few files.</summary>
/// <param name="Files">The JPEG files decoded.</param>
/// <param name="Decodes">What tjbench measured on each, in the same order.</param>
public sealed record TjbenchFigure(IReadOnlyList<string> Files, IReadOnlyList<TjbenchDecode> Decodes)
{
    /// <summary>Full-size images decoded per second on one core, over the files each decoded once.</summary>
    public double ImagesPerSecond => TjbenchDecode.CombinedImagesPerSecond([.. Decodes]);

    /// <summary>Millions of pixels decoded per second on one core, over the files each decoded once.</summary>
    public double MegapixelsPerSecond =>
        Decodes.Sum(d => (double)d.Width * d.Height) / 1e6 / Decodes.Sum(d => 1 / d.ImagesPerSecond);
}
