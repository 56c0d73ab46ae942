using TorchSharp;
using static TorchSharp.torch;

namespace DataflowContrastive.Train;

/// <summary>Contrastive losses; the names follow the papers so each line can be checked against its formula.</summary>
/// <remarks>
/// KeptScalars: TorchSharp 0.107 passes a <see cref="Scalar"/>'s handle to libtorch without keeping the Scalar
/// alive, so a temporary one made by an implicit conversion (<c>x.div(0.5)</c>) can be finalized by the garbage
/// collector during the native call, and libtorch then reads freed memory ("Unknown scalar type"; seen once in 6,500
/// steps). Each scalar here is therefore a <c>using</c> variable, alive until the method ends.
/// </remarks>
public static class ContrastiveLoss
{
    /// <summary>Largest inverse temperature CLIP allows: exp(t) is clamped to 100.</summary>
    public const double MaxLogitScale = 100;

    private static readonly double MaxLogLogitScale = Math.Log(MaxLogitScale);

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
        using Scalar two = 2;

        Tensor scale = InverseTemperature(logitScale);
        Tensor logits_per_image = scale * imageFeatures.matmul(textFeatures.t());
        Tensor logits_per_text = logits_per_image.t();

        Tensor labels = arange(imageFeatures.shape[0], dtype: int64, device: imageFeatures.device);
        Tensor loss = (nn.functional.cross_entropy(logits_per_image, labels)
            + nn.functional.cross_entropy(logits_per_text, labels)) / two;
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// CLIP's loss with false negatives handled: <paramref name="duplicateMask"/>[i, j] is true where rows i and j
    /// share their caption or their image.
    /// </summary>
    /// <remarks>
    /// The diagonal of the mask is ignored: a pair is always its own positive. For logits_per_text the mask is read
    /// transposed, so a mask that is not symmetric still means "image i duplicates text j". With
    /// <see cref="FalseNegativeMode.Positive"/> the cross-entropy of row i is taken against a target spread uniformly
    /// over i and its duplicates; with <see cref="FalseNegativeMode.Masked"/> the duplicates' logits are set to −∞
    /// before the softmax. A null mask, or <see cref="FalseNegativeMode.Ignore"/>, gives plain CLIP.
    /// </remarks>
    /// <param name="imageFeatures">(N, D) image embeddings.</param>
    /// <param name="textFeatures">(N, D) text embeddings, paired row by row with the images.</param>
    /// <param name="logitScale">The scalar t.</param>
    /// <param name="duplicateMask">(N, N) booleans, or <see langword="null"/> when the batch has no duplicates.</param>
    /// <param name="mode">How duplicates are treated.</param>
    /// <returns>A scalar tensor.</returns>
    public static Tensor Clip(
        Tensor imageFeatures, Tensor textFeatures, Tensor logitScale, Tensor? duplicateMask, FalseNegativeMode mode)
    {
        if (duplicateMask is null || mode == FalseNegativeMode.Ignore)
        {
            return Clip(imageFeatures, textFeatures, logitScale);
        }
        RequirePairedBatch(imageFeatures, textFeatures);
        ArgumentNullException.ThrowIfNull(logitScale);
        long n = imageFeatures.shape[0];
        RequireSquareMask(duplicateMask, n);
        using var scope = NewDisposeScope();
        using Scalar two = 2;

        Tensor scale = InverseTemperature(logitScale);
        Tensor logits_per_image = scale * imageFeatures.matmul(textFeatures.t());
        Tensor logits_per_text = logits_per_image.t();

        Tensor identity = eye(n, dtype: ScalarType.Bool, device: imageFeatures.device);
        Tensor duplicates = duplicateMask.to(imageFeatures.device).to(ScalarType.Bool)
            .logical_and(identity.logical_not());
        Tensor loss = mode switch
        {
            FalseNegativeMode.Positive => (SoftTargetCrossEntropy(logits_per_image, duplicates.logical_or(identity))
                + SoftTargetCrossEntropy(logits_per_text, duplicates.t().logical_or(identity))) / two,
            FalseNegativeMode.Masked => (MaskedCrossEntropy(logits_per_image, duplicates)
                + MaskedCrossEntropy(logits_per_text, duplicates.t())) / two,
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown false-negative mode."),
        };
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// SimCLR's NT-Xent loss (Chen et al. 2020): rows i and i+N of <paramref name="views"/> are two views of one
    /// sample; each row's positive is its twin and its negatives are the other 2N−2 rows.
    /// </summary>
    /// <remarks>
    /// ℓ(i, j) = −log( exp(sim(i, j)/τ) / Σ_{k≠i} exp(sim(i, k)/τ) ), averaged over all 2N rows. The similarity is
    /// the dot product: pass normalised rows for the cosine similarity of the paper.
    /// </remarks>
    /// <param name="views">(2N, D) embeddings, first views then second views in the same order.</param>
    /// <param name="temperature">τ, above 0.</param>
    /// <returns>A scalar tensor.</returns>
    public static Tensor NtXent(Tensor views, double temperature)
    {
        ArgumentNullException.ThrowIfNull(views);
        RequireTemperature(temperature);
        if (views.dim() != 2 || views.shape[0] < 2 || views.shape[0] % 2 != 0)
        {
            throw new ArgumentException(
                $"Views [{string.Join(", ", views.shape)}] must be (2N, D) with N at least 1.", nameof(views));
        }
        long twoN = views.shape[0];
        using var scope = NewDisposeScope();
        // Every scalar is a variable that lives to the end of the method: see KeptScalars.
        using Scalar tau = temperature, minusInfinity = double.NegativeInfinity, half = twoN / 2, one = 1, all = twoN;

        Tensor self = eye(twoN, dtype: ScalarType.Bool, device: views.device);
        Tensor logits = views.matmul(views.t()).div(tau).masked_fill(self, minusInfinity);
        Tensor twin = arange(twoN, dtype: int64, device: views.device).add(half, one).remainder(all);
        return nn.functional.cross_entropy(logits, twin).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The supervised contrastive loss L_out of Khosla et al. 2020: each anchor's positives are the other rows with
    /// its label, and the mean over positives is taken outside the log.
    /// </summary>
    /// <remarks>
    /// For anchor i with positives P(i) and all other rows A(i):
    /// ℓ_i = −1/|P(i)| Σ_{p∈P(i)} log( exp(z_i·z_p/τ) / Σ_{a∈A(i)} exp(z_i·z_a/τ) ).
    /// The loss is the mean of ℓ_i over the anchors that have at least one positive; an anchor alone with its label
    /// contributes nothing, and a batch where no anchor has a positive gives 0 with zero gradients, never NaN.
    /// The official code's extra factor τ/τ_base is left out (it is 1 when τ_base = τ).
    /// </remarks>
    /// <param name="features">(M, D) embeddings; pass normalised rows, as the paper does.</param>
    /// <param name="labels">(M) integer class labels.</param>
    /// <param name="temperature">τ, above 0.</param>
    /// <returns>A scalar tensor.</returns>
    public static Tensor SupCon(Tensor features, Tensor labels, double temperature)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        RequireTemperature(temperature);
        if (features.dim() != 2 || features.shape[0] < 2 || labels.dim() != 1 || labels.shape[0] != features.shape[0])
        {
            throw new ArgumentException(
                $"Features [{string.Join(", ", features.shape)}] must be (M, D) with M at least 2 and labels "
                + $"[{string.Join(", ", labels.shape)}] (M).", nameof(labels));
        }
        long m = features.shape[0];
        using var scope = NewDisposeScope();
        using Scalar tau = temperature, minusInfinity = double.NegativeInfinity, zero = 0, one = 1;

        Tensor self = eye(m, dtype: ScalarType.Bool, device: features.device);
        Tensor positives = labels.unsqueeze(1).eq(labels.unsqueeze(0)).logical_and(self.logical_not());
        Tensor logits = features.matmul(features.t()).div(tau).masked_fill(self, minusInfinity);
        Tensor log_prob = logits.log_softmax(1);

        // where, not multiplication: the diagonal of log_prob is −∞ and 0·(−∞) would be NaN.
        Tensor positiveCount = positives.sum(1, type: features.dtype);
        Tensor sum_log_prob_pos = log_prob.masked_fill(positives.logical_not(), zero).sum(1);
        Tensor hasPositive = positiveCount.gt(zero);
        Tensor mean_log_prob_pos = sum_log_prob_pos / positiveCount.clamp_min(one);
        Tensor anchors = hasPositive.sum(type: features.dtype).clamp_min(one);
        Tensor loss = -mean_log_prob_pos.masked_fill(hasPositive.logical_not(), zero).sum() / anchors;
        return loss.MoveToOuterDisposeScope();
    }

    // min(exp(t), 100), computed as exp(min(t, ln 100)): the same value, but at the clamp itself, where the trainer
    // keeps t, the gradient still flows. float32(ln 100) has an exp slightly above 100, so clamping after the exp
    // would leave t there with no gradient for good.
    private static Tensor InverseTemperature(Tensor logitScale)
    {
        using Scalar clamp = MaxLogLogitScale;
        return logitScale.clamp_max(clamp).exp();
    }

    // Mean over rows of −Σ_j q_ij log softmax(logits)_ij, with q_i uniform over the true entries of row i.
    private static Tensor SoftTargetCrossEntropy(Tensor logits, Tensor positives)
    {
        Tensor targets = positives.to(logits.dtype);
        targets = targets / targets.sum(1, keepdim: true);
        Tensor log_prob = logits.log_softmax(1);
        return -(targets * log_prob).sum(1).mean();
    }

    private static Tensor MaskedCrossEntropy(Tensor logits, Tensor excluded)
    {
        Tensor labels = arange(logits.shape[0], dtype: int64, device: logits.device);
        using Scalar minusInfinity = double.NegativeInfinity;
        return nn.functional.cross_entropy(logits.masked_fill(excluded, minusInfinity), labels);
    }

    private static void RequireTemperature(double temperature)
    {
        if (!double.IsFinite(temperature) || temperature <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be above 0.");
        }
    }

    private static void RequireSquareMask(Tensor duplicateMask, long n)
    {
        if (duplicateMask.dim() != 2 || duplicateMask.shape[0] != n || duplicateMask.shape[1] != n)
        {
            throw new ArgumentException(
                $"The duplicate mask [{string.Join(", ", duplicateMask.shape)}] must be ({n}, {n}).",
                nameof(duplicateMask));
        }
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
