using static TorchSharp.torch;

namespace DataflowContrastive.Train;

/// <summary>Contrastive losses; the names follow the papers so each line can be checked against its formula.</summary>
public static class ContrastiveLoss
{
    /// <summary>Largest inverse temperature CLIP allows: exp(t) is clamped to 100.</summary>
    public const double MaxLogitScale = 100;

    /// <summary>
    /// CLIP's symmetric InfoNCE loss: row i of <paramref name="imageFeatures"/> and row i of
    /// <paramref name="textFeatures"/> are the positive pair, every other row of the batch a negative.
    /// </summary>
    /// <remarks>
    /// logits_per_image = min(exp(t), 100) · I Tᵀ and logits_per_text its transpose; the loss is the mean of the
    /// two cross-entropies against the diagonal. Cross-entropy works through log-sum-exp, so large logits do not
    /// overflow. The features are used as given: CLIP normalises them first (see <see cref="ClipModel"/>).
    /// </remarks>
    /// <param name="imageFeatures">(N, D) image embeddings.</param>
    /// <param name="textFeatures">(N, D) text embeddings, paired row by row with the images.</param>
    /// <param name="logitScale">The scalar t.</param>
    /// <returns>A scalar tensor.</returns>
    public static Tensor Clip(Tensor imageFeatures, Tensor textFeatures, Tensor logitScale)
    {
        RequirePairedBatch(imageFeatures, textFeatures);
        ArgumentNullException.ThrowIfNull(logitScale);
        using var scope = NewDisposeScope();

        Tensor scale = logitScale.exp().clamp_max(MaxLogitScale);
        Tensor logits_per_image = scale * imageFeatures.matmul(textFeatures.t());
        Tensor logits_per_text = logits_per_image.t();

        Tensor labels = arange(imageFeatures.shape[0], dtype: int64, device: imageFeatures.device);
        Tensor loss = (nn.functional.cross_entropy(logits_per_image, labels)
            + nn.functional.cross_entropy(logits_per_text, labels)) / 2;
        return loss.MoveToOuterDisposeScope();
    }

    private static void RequirePairedBatch(Tensor imageFeatures, Tensor textFeatures)
    {
        ArgumentNullException.ThrowIfNull(imageFeatures);
        ArgumentNullException.ThrowIfNull(textFeatures);
        if (imageFeatures.dim() != 2 || textFeatures.dim() != 2
            || imageFeatures.shape[0] != textFeatures.shape[0] || imageFeatures.shape[1] != textFeatures.shape[1])
        {
            throw new ArgumentException(
                $"Image features [{string.Join(", ", imageFeatures.shape)}] and text features "
                + $"[{string.Join(", ", textFeatures.shape)}] must both be (N, D) with the same N and D.",
                nameof(textFeatures));
        }
    }
}
