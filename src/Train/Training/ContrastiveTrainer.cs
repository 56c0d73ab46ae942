using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DataflowContrastive.Train;

/// <summary>
/// What every trainer of this project shares: a model built from a seed, AdamW with decay on matrices only, the
/// warm-up and cosine schedule, the guard that skips a step whose loss or gradients are not finite, and the state a
/// <see cref="CheckpointStore"/> saves. A subclass says how a batch becomes a loss.
/// </summary>
/// <remarks>
/// Not thread-safe: one caller drives it. The weights depend on the seed alone as long as no other code draws from
/// torch's global generator while a trainer is being built. Every step runs in its own dispose scope, so the tensors
/// of a step are freed when it returns.
/// </remarks>
public abstract class ContrastiveTrainer : IDisposable
{
    // torch's generator is global: trainers built at the same time take turns, so each one's weights come from its
    // own seed alone.
    private static readonly Lock SeededConstruction = new();

    private readonly OptimizerOptions _optimizerOptions;
    private readonly int _totalSteps;
    private readonly AdamW _optimizer;

    /// <summary>Builds the model with <paramref name="create"/> under <paramref name="seed"/>, then AdamW over it.
    /// </summary>
    /// <param name="create">Makes the model; called once, while torch is seeded.</param>
    /// <param name="optimizer">AdamW and schedule settings; validated here.</param>
    /// <param name="totalSteps">Length of the run, for the cosine schedule; at least 1.</param>
    /// <param name="device">Where the model and the batches live; see <see cref="DeviceSelector"/>.</param>
    /// <param name="seed">Seeds torch before the weights are drawn.</param>
    protected ContrastiveTrainer(Func<nn.Module> create, OptimizerOptions optimizer, int totalSteps, Device device,
        long seed)
    {
        ArgumentNullException.ThrowIfNull(create);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(device);
        ArgumentOutOfRangeException.ThrowIfLessThan(totalSteps, 1);
        optimizer.Validate();

        _optimizerOptions = optimizer;
        _totalSteps = totalSteps;
        Device = device;
        lock (SeededConstruction)
        {
            manual_seed(seed);
            Network = create();
        }
        Network.to(device);
        _optimizer = CreateOptimizer(Network, optimizer);
    }

    /// <summary>The model being trained, as the module whose state a checkpoint holds.</summary>
    public nn.Module Network { get; }

    /// <summary>Number of steps completed so far; a restored checkpoint sets it.</summary>
    public int Step { get; internal set; }

    /// <summary>Number of steps skipped because their loss or gradients were not finite.</summary>
    public int SkippedSteps { get; internal set; }

    /// <summary>The inverse temperature the loss divides similarities by (1/τ), as reported in logs.</summary>
    public abstract double Temperature { get; }

    /// <summary>Width of the rows <see cref="EmbedImages"/> returns.</summary>
    public abstract int ImageEmbeddingWidth { get; }

    /// <summary>Side of the square images the model takes.</summary>
    protected abstract int ImageSize { get; }

    /// <summary>Where the model and the batches live.</summary>
    protected Device Device { get; }

    internal AdamW Optimizer => _optimizer;

    /// <summary>
    /// Embeds <paramref name="count"/> images for export and evaluation; returns
    /// count·<see cref="ImageEmbeddingWidth"/> floats, each row of unit length.
    /// </summary>
    public float[] EmbedImages(ReadOnlySpan<float> images, int count) => Infer(images, count, EmbedForExport);

    /// <summary>Runs <paramref name="forward"/> on <paramref name="count"/> images in evaluation mode, without
    /// gradients; returns its output's floats.</summary>
    protected float[] Infer(ReadOnlySpan<float> images, int count, Func<Tensor, Tensor> forward)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentNullException.ThrowIfNull(forward);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Network.eval();
        return forward(ImagesToTensor(images, count)).cpu().data<float>().ToArray();
    }

    /// <summary>True when every weight of the model is a finite number, as a checkpoint's weights must be.</summary>
    public bool ParametersAreFinite()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return Network.parameters().All(p => p.isfinite().all().item<bool>());
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the optimiser and the model.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _optimizer.Dispose();
            Network.Dispose();
        }
    }

    /// <summary>The L2-normalised rows an export writes for a batch of images (N, 3, S, S).</summary>
    protected abstract Tensor EmbedForExport(Tensor images);

    /// <summary>Called after each optimiser step that was taken, to keep parameters within their bounds.</summary>
    protected virtual void AfterUpdate()
    {
    }

    /// <summary>
    /// Runs one AdamW step on the loss <paramref name="computeLoss"/> returns. Steps past the run's total use learning
    /// rate 0. A step whose loss or gradients are not finite is skipped: it counts in <see cref="Step"/> (so the
    /// schedule stays aligned with the data) but updates nothing, and its result says so.
    /// </summary>
    protected StepResult RunStep(Func<Tensor> computeLoss)
    {
        ArgumentNullException.ThrowIfNull(computeLoss);
        using var scope = NewDisposeScope();

        double learningRate = LearningRateSchedule.At(
            Step, _optimizerOptions.WarmupSteps, _totalSteps, _optimizerOptions.LearningRate);
        foreach (ParamGroup group in _optimizer.ParamGroups)
        {
            group.LearningRate = learningRate;
        }

        Network.train();
        _optimizer.zero_grad();
        Tensor loss = computeLoss();
        loss.backward();

        // One bad batch (a corrupt image, an overflow) must not poison the weights or AdamW's moments: such a step is
        // counted but changes nothing. Reading the flag waits for the device to finish the backward pass.
        bool finite = IsFinite(loss);
        if (finite)
        {
            _optimizer.step();
            AfterUpdate();
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

    /// <summary>Copies count images of 3·S·S floats (CHW, normalised) into a tensor on the device.</summary>
    protected Tensor ImagesToTensor(ReadOnlySpan<float> images, int count)
    {
        int size = ImageSize;
        long expected = (long)count * 3 * size * size;
        if (images.Length != expected)
        {
            throw new ArgumentException(
                $"{images.Length} image floats given; {count} images of 3x{size}x{size} need {expected}.",
                nameof(images));
        }
        Tensor batch = empty([count, 3, size, size], float32);
        batch.data<float>().CopyFrom(images);
        return batch.to(Device);
    }

    // As open_clip: matrices and embeddings decay; biases, norm weights and scalars (all below 2-D) do not.
    private static AdamW CreateOptimizer(nn.Module model, OptimizerOptions options)
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
        foreach (Parameter parameter in Network.parameters())
        {
            if (parameter.grad is { } grad)
            {
                checks.Add(grad.isfinite().all());
            }
        }
        return stack(checks).all().cpu().item<bool>();
    }
}
