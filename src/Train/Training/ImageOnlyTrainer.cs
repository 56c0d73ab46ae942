using static TorchSharp.torch;

namespace DataflowContrastive.Train;

/// <summary>
/// Owns an <see cref="ImageOnlyModel"/> and trains it on two augmented views per image, with SimCLR's NT-Xent loss
/// (instance discrimination) or the supervised contrastive loss (positives share a label), at a fixed temperature.
/// </summary>
/// <remarks>
/// Batches are handed over as 2N images: the first view of each of the N samples, then their second views in the same
/// order, so rows i and i+N are twins, as <see cref="ContrastiveLoss.NtXent"/> expects. Exported and evaluated
/// embeddings are the backbone's normalised representation, not the head's output (see <see cref="ImageOnlyModel"/>).
/// </remarks>
public sealed class ImageOnlyTrainer : ContrastiveTrainer
{
    private readonly double _temperature;

    /// <summary>Builds the model on <paramref name="device"/> with weights drawn from <paramref name="seed"/>.
    /// </summary>
    /// <param name="model">Backbone and head shapes; validated here.</param>
    /// <param name="optimizer">AdamW and schedule settings; validated here.</param>
    /// <param name="totalSteps">Length of the run, for the cosine schedule; at least 1.</param>
    /// <param name="temperature">τ of the loss, above 0.</param>
    /// <param name="device">Where the model and the batches live; see <see cref="DeviceSelector"/>.</param>
    /// <param name="seed">Seeds torch before the weights are drawn.</param>
    public ImageOnlyTrainer(ModelOptions model, OptimizerOptions optimizer, int totalSteps, double temperature,
        Device device, long seed)
        : base(() => new ImageOnlyModel(model), optimizer, totalSteps, device, seed)
    {
        if (!double.IsFinite(temperature) || temperature <= 0)
        {
            Dispose();
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be above 0.");
        }
        _temperature = temperature;
    }

    /// <summary>The model being trained.</summary>
    public ImageOnlyModel Model => (ImageOnlyModel)Network;

    /// <summary>1/τ, fixed for the run.</summary>
    public override double Temperature => 1 / _temperature;

    /// <summary>The width of the backbone's representation, which export writes.</summary>
    public override int ImageEmbeddingWidth => Model.RepresentationWidth;

    /// <inheritdoc/>
    protected override int ImageSize => Model.Options.ImageSize;

    /// <summary>One AdamW step of SimCLR: each view's positive is its twin, the other 2N−2 views its negatives.
    /// </summary>
    /// <param name="views">2N·3·S·S floats: the N first views, then the N second views, CHW, normalised.</param>
    /// <param name="samples">N, at least 1.</param>
    public StepResult TrainStepNtXent(ReadOnlySpan<float> views, int samples)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 1);
        using var scope = NewDisposeScope();
        Tensor batch = ImagesToTensor(views, 2 * samples);
        return RunStep(() => ContrastiveLoss.NtXent(Model.Project(batch), _temperature));
    }

    /// <summary>
    /// One AdamW step of SupCon: each view's positives are every other view with its sample's label (its twin
    /// among them); an anchor with no positive contributes nothing.
    /// </summary>
    /// <param name="views">2N·3·S·S floats: the N first views, then the N second views, CHW, normalised.</param>
    /// <param name="labels">N class ids, one per sample.</param>
    /// <param name="samples">N, at least 1.</param>
    public StepResult TrainStepSupCon(ReadOnlySpan<float> views, ReadOnlySpan<long> labels, int samples)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 1);
        if (labels.Length != samples)
        {
            throw new ArgumentException($"{labels.Length} labels given for {samples} samples.", nameof(labels));
        }
        using var scope = NewDisposeScope();
        Tensor batch = ImagesToTensor(views, 2 * samples);
        Tensor sampleLabels = tensor(labels.ToArray(), int64).to(Device);
        Tensor viewLabels = cat([sampleLabels, sampleLabels]);
        return RunStep(() => ContrastiveLoss.SupCon(Model.Project(batch), viewLabels, _temperature));
    }

    /// <inheritdoc/>
    protected override Tensor EmbedForExport(Tensor images) => Model.Represent(images);

    /// <summary>
    /// The projection head's unit-length output for <paramref name="count"/> images, what the loss sees; returns
    /// count·EmbedDim floats. The collapse check measures it, as SimSiam does.
    /// </summary>
    public float[] ProjectImages(ReadOnlySpan<float> images, int count) => Infer(images, count, Model.Project);
}
