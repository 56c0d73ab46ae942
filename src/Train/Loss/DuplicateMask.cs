namespace DataflowContrastive.Train;

/// <summary>
/// Builds the (N, N) duplicate mask that <see cref="ContrastiveLoss"/> and <see cref="ClipTrainer"/> take.
/// </summary>
public static class DuplicateMask
{
    /// <summary>
    /// Marks rows i ≠ j that share an image key or a caption key; keys are whatever identifies them to the caller
    /// (a row id of the source image, a hash of the caption text).
    /// </summary>
    /// <param name="imageKeys">One key per pair.</param>
    /// <param name="captionKeys">One key per pair, or empty to compare images only.</param>
    /// <returns>N·N booleans, row-major; the diagonal is false.</returns>
    public static bool[] FromKeys(ReadOnlySpan<long> imageKeys, ReadOnlySpan<long> captionKeys)
    {
        int n = imageKeys.Length;
        if (!captionKeys.IsEmpty && captionKeys.Length != n)
        {
            throw new ArgumentException(
                $"{captionKeys.Length} caption keys given for {n} image keys; pass one per pair or none.",
                nameof(captionKeys));
        }

        var mask = new bool[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                bool sameCaption = !captionKeys.IsEmpty && captionKeys[i] == captionKeys[j];
                mask[(i * n) + j] = i != j && (imageKeys[i] == imageKeys[j] || sameCaption);
            }
        }
        return mask;
    }
}
