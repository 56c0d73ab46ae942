namespace DataflowContrastive.Train;

/// <summary>AdamW and learning-rate schedule settings. Defaults follow CLIP-style training of small models.</summary>
public sealed class OptimizerOptions
{
    /// <summary>Peak learning rate, reached at the end of warm-up. Default 5e-4.</summary>
    public double LearningRate { get; init; } = 5e-4;

    /// <summary>
    /// Decoupled weight decay for matrices and embeddings; biases, norm weights and the logit scale get none.
    /// Default 0.1.
    /// </summary>
    public double WeightDecay { get; init; } = 0.1;

    /// <summary>Adam's first-moment decay. Default 0.9.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>Adam's second-moment decay. Default 0.98.</summary>
    public double Beta2 { get; init; } = 0.98;

    /// <summary>Adam's denominator guard. Default 1e-6.</summary>
    public double Epsilon { get; init; } = 1e-6;

    /// <summary>Steps of linear warm-up before the cosine decay. Default 10.</summary>
    public int WarmupSteps { get; init; } = 10;

    /// <summary>
    /// Checks every value and throws <see cref="ArgumentException"/> naming the first one out of range.
    /// </summary>
    public void Validate()
    {
        Require(double.IsFinite(LearningRate) && LearningRate > 0, nameof(LearningRate), "must be above 0");
        Require(double.IsFinite(WeightDecay) && WeightDecay >= 0, nameof(WeightDecay), "must be 0 or more");
        Require(Beta1 is >= 0 and < 1, nameof(Beta1), "must be in [0, 1)");
        Require(Beta2 is >= 0 and < 1, nameof(Beta2), "must be in [0, 1)");
        Require(double.IsFinite(Epsilon) && Epsilon > 0, nameof(Epsilon), "must be above 0");
        Require(WarmupSteps >= 0, nameof(WarmupSteps), "must be 0 or more");
    }

    private static void Require(bool condition, string name, string rule)
    {
        if (!condition)
        {
            throw new ArgumentException($"OptimizerOptions.{name} {rule}.", name);
        }
    }
}
