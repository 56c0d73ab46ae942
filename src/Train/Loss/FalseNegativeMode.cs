namespace DataflowContrastive.Train;

/// <summary>
/// What CLIP's loss does with false negatives: other rows of the batch that share the caption or the image of a pair
/// and so should not be pushed away from it.
/// </summary>
public enum FalseNegativeMode
{
    /// <summary>They stay negatives, as in plain CLIP.</summary>
    Ignore,

    /// <summary>
    /// They become extra positives: each row's target spreads uniformly over the pair itself and its duplicates.
    /// </summary>
    Positive,

    /// <summary>They are removed from the softmax denominator: neither pulled in nor pushed away.</summary>
    Masked,
}
