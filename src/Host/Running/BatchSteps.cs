using System.Diagnostics;
using System.Threading.Tasks.Dataflow;
using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Train;
using TorchSharp;

namespace DataflowContrastive.Host.Running;

/// <summary>One optimizer step on a batch of prepared samples, made into pairs as the pipeline's mode says.</summary>
public interface IBatchStep
{
    /// <summary>Collates <paramref name="batch"/> into the step's buffers and trains on it.</summary>
    StepResult Run(PreparedSample[] batch);
}

/// <summary>What differs between the modes on the training side: the trainer, the batching and the step.</summary>
public static class BatchSteps
{
    /// <summary>The trainer <paramref name="definition"/>'s mode trains: CLIP's two towers, or an image-only model.
    /// </summary>
    public static ContrastiveTrainer CreateTrainer(PipelineDefinition definition, int vocabularySize, int totalSteps,
        torch.Device device)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ModelOptions model = definition.Model(vocabularySize);
        return definition.Mode == ContrastiveMode.Clip
            ? new ClipTrainer(model, definition.Optimizer(), totalSteps, device, definition.Train.Seed)
            : new ImageOnlyTrainer(model, definition.Optimizer(), totalSteps, definition.Loss.Temperature, device,
                definition.Train.Seed);
    }

    /// <summary>The step that trains <paramref name="trainer"/> on batches of <paramref name="definition"/>.</summary>
    public static IBatchStep For(PipelineDefinition definition, ContrastiveTrainer trainer)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return trainer switch
        {
            ClipTrainer clip => new ClipBatchStep(definition, clip),
            ImageOnlyTrainer images => new ViewBatchStep(definition, images),
            _ => throw new ArgumentException($"No batch step for {trainer.GetType().Name}.", nameof(trainer)),
        };
    }

    /// <summary>
    /// The block that groups prepared samples into batches: fixed-size batches in stream order, or, with
    /// <c>mode: supcon</c>, class-balanced ones (<see cref="ClassBalancedBatcher"/>).
    /// </summary>
    public static IPropagatorBlock<PreparedSample, PreparedSample[]> CreateBatcher(PipelineDefinition definition,
        DataflowGraph graph)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(graph);
        int size = definition.Batch.Size;
        if (definition.Mode != ContrastiveMode.SupCon)
        {
            return new BatchBlock<PreparedSample>(size, graph.GroupingOptions(size * 2));
        }
        var batcher = new ClassBalancedBatcher(definition.Batch.Classes, definition.Batch.PerClass);
        return new TransformManyBlock<PreparedSample, PreparedSample[]>(
            s => batcher.Add(s) is { } batch ? [batch] : [], graph.Options(capacity: size * 2));
    }

    // CLIP: images and caption tokens row by row, with the false negatives of the batch as the file says.
    private sealed class ClipBatchStep(PipelineDefinition definition, ClipTrainer trainer) : IBatchStep
    {
        private readonly float[] _images = new float[definition.Batch.Size * PixelsOf(definition)];
        private readonly long[] _tokens = new long[definition.Batch.Size * definition.Model.ContextLength];
        private readonly FalseNegativeMode _falseNegatives = definition.Loss.FalseNegatives;

        public StepResult Run(PreparedSample[] batch)
        {
            PreparedSample.Collate(batch, PixelsOf(definition), _images, _tokens);
            bool[] duplicates = _falseNegatives == FalseNegativeMode.Ignore ? [] : DuplicatesOf(batch);
            return trainer.TrainStep(_images, _tokens, batch.Length, duplicates, _falseNegatives);
        }

        // Empty when no two rows share an image or a caption: the loss is then plain CLIP.
        private static bool[] DuplicatesOf(PreparedSample[] batch)
        {
            long[] images = [.. batch.Select(s => s.DuplicateKeys.Image)];
            long[] captions = [.. batch.Select(s => s.DuplicateKeys.Caption)];
            bool[] mask = DuplicateMask.FromKeys(images, captions);
            return mask.Contains(true) ? mask : [];
        }
    }

    // SimCLR and SupCon: the N first views, then the N second views, written straight into one 2N-image buffer.
    private sealed class ViewBatchStep(PipelineDefinition definition, ImageOnlyTrainer trainer) : IBatchStep
    {
        private readonly int _pixels = PixelsOf(definition);
        private readonly float[] _views = new float[2 * definition.Batch.Size * PixelsOf(definition)];
        private readonly long[] _labels = new long[definition.Batch.Size];
        private readonly bool _supervised = definition.Mode == ContrastiveMode.SupCon;

        public StepResult Run(PreparedSample[] batch)
        {
            int n = batch.Length;
            for (int i = 0; i < n; i++)
            {
                PreparedSample sample = batch[i];
                Debug.Assert(sample.SecondView is not null, "training samples of the image-only modes have two views");
                sample.Pixels.AsSpan(0, _pixels).CopyTo(_views.AsSpan(i * _pixels, _pixels));
                sample.SecondView.AsSpan(0, _pixels).CopyTo(_views.AsSpan((n + i) * _pixels, _pixels));
                _labels[i] = sample.LabelId;
            }
            ReadOnlySpan<float> views = _views.AsSpan(0, 2 * n * _pixels);
            return _supervised
                ? trainer.TrainStepSupCon(views, _labels.AsSpan(0, n), n)
                : trainer.TrainStepNtXent(views, n);
        }
    }

    private static int PixelsOf(PipelineDefinition definition) => 3 * definition.Images.Size * definition.Images.Size;
}
