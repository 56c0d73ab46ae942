using TorchSharp;
using static TorchSharp.torch;

namespace DataflowContrastive.Train;

/// <summary>
/// Owns a <see cref="ClipModel"/> and its AdamW optimiser, and runs one step at a time on batches handed over as
/// flat arrays, so callers need no tensor code.
/// </summary>
/// <remarks>
/// Not thread-safe: one caller drives it. What it shares with the image-only trainer (seeding, optimiser, schedule,
/// finite-step guard) lives in <see cref="ContrastiveTrainer"/>.
/// </remarks>
public sealed class ClipTrainer : ContrastiveTrainer
{
    /// <summary>
    /// Builds the model on <paramref name="device"/> with weights drawn from <paramref name="seed"/>.
    /// </summary>
    /// <param name="model">Encoder shapes; validated here.</param>
    /// <param name="optimizer">AdamW and schedule settings; validated here.</param>
    /// <param name="totalSteps">Length of the run, for the cosine schedule; at least 1.</param>
    /// <param name="device">Where the model and the batches live; see <see cref="DeviceSelector"/>.</param>
    /// <param name="seed">Seeds torch before the weights are drawn.</param>
    public ClipTrainer(ModelOptions model, OptimizerOptions optimizer, int totalSteps, Device device, long seed)
        : base(() => new ClipModel(Validated(model)), optimizer, totalSteps, device, seed)
    {
    }

    /// <summary>The model being trained.</summary>
    public ClipModel Model => (ClipModel)Network;

    /// <summary>The current inverse temperature, min(exp(t), 100).</summary>
    public override double Temperature
    {
        get
        {
            using var scope = NewDisposeScope();
            using Scalar clamp = ContrastiveLoss.MaxLogitScale;
            return Model.LogitScale.detach().exp().clamp_max(clamp).cpu().item<float>();
        }
    }

    /// <inheritdoc/>
    public override int ImageEmbeddingWidth => Model.Options.EmbedDim;

    /// <inheritdoc/>
    protected override int ImageSize => Model.Options.ImageSize;

    /// <summary>Runs one AdamW step on a batch of image-caption pairs; image i goes with token row i.</summary>
    /// <param name="images">N·3·S·S floats, each image in CHW order, already normalised.</param>
    /// <param name="tokens">N·L token ids from <see cref="CaptionTokenizer"/>.</param>
    /// <param name="batchSize">N; at least 2, since a single pair has no negatives.</param>
    /// <remarks>
    /// Steps past the run's total use learning rate 0. A step whose loss or gradients are not finite is skipped: it
    /// counts in <see cref="ContrastiveTrainer.Step"/> (so the schedule stays aligned with the data) but updates
    /// nothing, and its result says so.
    /// </remarks>
    public StepResult TrainStep(ReadOnlySpan<float> images, ReadOnlySpan<long> tokens, int batchSize) =>
        TrainStep(images, tokens, batchSize, [], FalseNegativeMode.Ignore);

    /// <summary>
    /// Runs one AdamW step as <see cref="TrainStep(ReadOnlySpan{float}, ReadOnlySpan{long}, int)"/>, treating pairs
    /// that share an image or a caption as <paramref name="mode"/> says.
    /// </summary>
    /// <param name="images">N·3·S·S floats, each image in CHW order, already normalised.</param>
    /// <param name="tokens">N·L token ids from <see cref="CaptionTokenizer"/>.</param>
    /// <param name="batchSize">N; at least 2, since a single pair has no negatives.</param>
    /// <param name="duplicateMask">N·N booleans from <see cref="DuplicateMask"/>, or empty for none.</param>
    /// <param name="mode">What the loss does with the duplicates.</param>
    public StepResult TrainStep(
        ReadOnlySpan<float> images, ReadOnlySpan<long> tokens, int batchSize, ReadOnlySpan<bool> duplicateMask,
        FalseNegativeMode mode)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 2);
        using var scope = NewDisposeScope();
        Tensor imageBatch = ImagesToTensor(images, batchSize);
        Tensor tokenBatch = TokensToTensor(tokens, batchSize);
        Tensor? duplicates = MaskToTensor(duplicateMask, batchSize);

        return RunStep(() =>
        {
            Tensor image_features = Model.EncodeImage(imageBatch);
            Tensor text_features = Model.EncodeText(tokenBatch);
            return ContrastiveLoss.Clip(image_features, text_features, Model.LogitScale, duplicates, mode);
        });
    }

    /// <summary>
    /// Embeds <paramref name="count"/> token rows; returns count·EmbedDim floats, each row of unit length.
    /// </summary>
    public float[] EmbedTexts(ReadOnlySpan<long> tokens, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Model.eval();
        return Model.EncodeText(TokensToTensor(tokens, count)).cpu().data<float>().ToArray();
    }

    /// <inheritdoc/>
    protected override Tensor EmbedForExport(Tensor images) => Model.EncodeImage(images);

    // As open_clip: keep exp(t) within [1, 100] so the clamp in the loss never leaves t without a gradient.
    protected override void AfterUpdate()
    {
        using var noGrad = no_grad();
        using Scalar low = 0, high = Math.Log(ContrastiveLoss.MaxLogitScale);
        Model.LogitScale.clamp_(low, high);
    }

    private static ModelOptions Validated(ModelOptions model)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.Validate();
        return model;
    }

    private Tensor? MaskToTensor(ReadOnlySpan<bool> duplicateMask, int count)
    {
        if (duplicateMask.IsEmpty)
        {
            return null;
        }
        if (duplicateMask.Length != count * count)
        {
            throw new ArgumentException(
                $"{duplicateMask.Length} mask entries given; a batch of {count} needs {count * count}.",
                nameof(duplicateMask));
        }
        Tensor mask = empty([count, count], ScalarType.Bool);
        mask.data<bool>().CopyFrom(duplicateMask);
        return mask.to(Device);
    }

    private Tensor TokensToTensor(ReadOnlySpan<long> tokens, int count)
    {
        int length = Model.Options.ContextLength;
        long expected = (long)count * length;
        if (tokens.Length != expected)
        {
            throw new ArgumentException(
                $"{tokens.Length} token ids given; {count} rows of {length} need {expected}.", nameof(tokens));
        }
        Tensor batch = empty([count, length], int64);
        batch.data<long>().CopyFrom(tokens);
        return batch.to(Device);
    }
}
