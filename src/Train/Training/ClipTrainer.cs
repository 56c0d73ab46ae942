using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DataflowContrastive.Train;

/// <summary>
/// Owns a <see cref="ClipModel"/> and its AdamW optimiser, and runs one step at a time on batches handed over as
/// flat arrays, so callers need no tensor code.
/// </summary>
/// <remarks>
/// Not thread-safe: one caller drives it. The weights depend on the seed alone as long as no other code draws from
/// torch's global generator while a trainer is being built. Every step runs in its own dispose scope, so the tensors
/// of a step are freed when it returns.
/// </remarks>
public sealed class ClipTrainer : IDisposable
{
    // torch's generator is global: trainers built at the same time take turns, so each one's weights come from its
    // own seed alone.
    private static readonly Lock SeededConstruction = new();

    private readonly OptimizerOptions _optimizerOptions;
    private readonly int _totalSteps;
    private readonly Device _device;
    private readonly AdamW _optimizer;

    /// <summary>
    /// Builds the model on <paramref name="device"/> with weights drawn from <paramref name="seed"/>.
    /// </summary>
    /// <param name="model">Encoder shapes; validated here.</param>
    /// <param name="optimizer">AdamW and schedule settings; validated here.</param>
    /// <param name="totalSteps">Length of the run, for the cosine schedule; at least 1.</param>
    /// <param name="device">Where the model and the batches live; see <see cref="DeviceSelector"/>.</param>
    /// <param name="seed">Seeds torch before the weights are drawn.</param>
    public ClipTrainer(ModelOptions model, OptimizerOptions optimizer, int totalSteps, Device device, long seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(device);
        ArgumentOutOfRangeException.ThrowIfLessThan(totalSteps, 1);
        model.Validate();
        optimizer.Validate();

        _optimizerOptions = optimizer;
        _totalSteps = totalSteps;
        _device = device;

        lock (SeededConstruction)
        {
            manual_seed(seed);
            Model = new ClipModel(model);
        }
        Model.to(device);
        _optimizer = CreateOptimizer(Model, optimizer);
    }

    /// <summary>The model being trained.</summary>
    public ClipModel Model { get; }

    /// <summary>Number of steps completed so far; a restored checkpoint sets it.</summary>
    public int Step { get; internal set; }

    /// <summary>Number of steps skipped because their loss or gradients were not finite.</summary>
    public int SkippedSteps { get; internal set; }

    /// <summary>The current inverse temperature, min(exp(t), 100).</summary>
    public double Temperature
    {
        get
        {
            using var scope = NewDisposeScope();
            return Model.LogitScale.detach().exp().clamp_max(ContrastiveLoss.MaxLogitScale).cpu().item<float>();
        }
    }

    internal AdamW Optimizer => _optimizer;

    /// <summary>Runs one AdamW step on a batch of image-caption pairs; image i goes with token row i.</summary>
    /// <param name="images">N·3·S·S floats, each image in CHW order, already normalised.</param>
    /// <param name="tokens">N·L token ids from <see cref="CaptionTokenizer"/>.</param>
    /// <param name="batchSize">N; at least 2, since a single pair has no negatives.</param>
    /// <remarks>
    /// Steps past the run's total use learning rate 0. A step whose loss or gradients are not finite is skipped: it
    /// counts in <see cref="Step"/> (so the schedule stays aligned with the data) but updates nothing, and its result
    /// says so.
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

        double learningRate = LearningRateSchedule.At(
            Step, _optimizerOptions.WarmupSteps, _totalSteps, _optimizerOptions.LearningRate);
        foreach (ParamGroup group in _optimizer.ParamGroups)
        {
            group.LearningRate = learningRate;
        }

        Tensor imageBatch = ImagesToTensor(images, batchSize);
        Tensor tokenBatch = TokensToTensor(tokens, batchSize);
        Tensor? duplicates = MaskToTensor(duplicateMask, batchSize);

        Model.train();
        _optimizer.zero_grad();
        Tensor image_features = Model.EncodeImage(imageBatch);
        Tensor text_features = Model.EncodeText(tokenBatch);
        Tensor loss = ContrastiveLoss.Clip(image_features, text_features, Model.LogitScale, duplicates, mode);
        loss.backward();

        // One bad batch (a corrupt image, an overflow) must not poison the weights or AdamW's moments: such a step is
        // counted but changes nothing. Reading the flag waits for the device to finish the backward pass.
        bool finite = IsFinite(loss);
        if (finite)
        {
            _optimizer.step();
            ClampLogitScale();
        }
        else
        {
            _optimizer.zero_grad();
            SkippedSteps++;
        }

        double lossValue = loss.cpu().item<float>();
        Step++;
        return new StepResult(Step, lossValue, learningRate, Temperature, Skipped: !finite);
    }

    /// <summary>
    /// Embeds <paramref name="count"/> images; returns count·EmbedDim floats, each row of unit length.
    /// </summary>
    public float[] EmbedImages(ReadOnlySpan<float> images, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Model.eval();
        return Model.EncodeImage(ImagesToTensor(images, count)).cpu().data<float>().ToArray();
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

    /// <summary>True when every weight of the model is a finite number, as a checkpoint's weights must be.</summary>
    public bool ParametersAreFinite()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return Model.parameters().All(p => p.isfinite().all().item<bool>());
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _optimizer.Dispose();
        Model.Dispose();
    }

    // As open_clip: matrices and embeddings decay; biases, norm weights and the logit scale (all below 2-D) do not.
    private static AdamW CreateOptimizer(ClipModel model, OptimizerOptions options)
    {
        var decayed = new List<Parameter>();
        var kept = new List<Parameter>();
        foreach ((string _, Parameter parameter) in model.named_parameters())
        {
            (parameter.dim() < 2 ? kept : decayed).Add(parameter);
        }

        AdamW.ParamGroup Group(List<Parameter> parameters, double weightDecay) => new(
            parameters, options.LearningRate, options.Beta1, options.Beta2, options.Epsilon, weightDecay);
        return optim.AdamW(
            [Group(decayed, options.WeightDecay), Group(kept, 0)],
            options.LearningRate, options.Beta1, options.Beta2, options.Epsilon, options.WeightDecay);
    }

    private bool IsFinite(Tensor loss)
    {
        List<Tensor> checks = [loss.isfinite().all()];
        foreach (Parameter parameter in Model.parameters())
        {
            if (parameter.grad is { } grad)
            {
                checks.Add(grad.isfinite().all());
            }
        }
        return stack(checks).all().cpu().item<bool>();
    }

    // As open_clip: keep exp(t) within [1, 100] so the clamp in the loss never leaves t without a gradient.
    private void ClampLogitScale()
    {
        using var noGrad = no_grad();
        Model.LogitScale.clamp_(0, Math.Log(ContrastiveLoss.MaxLogitScale));
    }

    private Tensor ImagesToTensor(ReadOnlySpan<float> images, int count)
    {
        int size = Model.Options.ImageSize;
        long expected = (long)count * 3 * size * size;
        if (images.Length != expected)
        {
            throw new ArgumentException(
                $"{images.Length} image floats given; {count} images of 3x{size}x{size} need {expected}.",
                nameof(images));
        }
        Tensor batch = empty([count, 3, size, size], float32);
        batch.data<float>().CopyFrom(images);
        return batch.to(_device);
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
        return mask.to(_device);
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
        return batch.to(_device);
    }
}
