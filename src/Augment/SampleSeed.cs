namespace DataflowContrastive.Augment;

/// <summary>
/// Everything that decides one view's random augmentation. Equal seeds give equal pixels, whatever thread or order
/// the sample is processed in.
/// </summary>
/// <param name="Seed">The run's seed from the pipeline file.</param>
/// <param name="Epoch">Epoch number, so every epoch sees fresh crops.</param>
/// <param name="SampleIndex">Global index of the sample in the dataset order.</param>
/// <param name="View">Which of the sample's views (0 and 1 for a contrastive pair).</param>
public readonly record struct SampleSeed(long Seed, int Epoch, long SampleIndex, int View)
{
    /// <summary>A generator whose whole sequence is fixed by this seed.</summary>
    public SampleRandom CreateRandom() => new(this);
}
