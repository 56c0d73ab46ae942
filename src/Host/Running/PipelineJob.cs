using System.Diagnostics;
using System.Text.Json;
using System.Threading.Tasks.Dataflow;
using DataflowContrastive.Augment;
using DataflowContrastive.Host.Export;
using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Ingest;
using DataflowContrastive.Train;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace DataflowContrastive.Host.Running;

/// <summary>A run that cannot go on: no shards, no usable samples, or a stage that failed. Its message says why.</summary>
public sealed class PipelineRunException : Exception
{
    public PipelineRunException()
    {
    }

    public PipelineRunException(string message)
        : base(message)
    {
    }

    public PipelineRunException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The main job of a pipeline file: read shards -> decode and augment in parallel, in order -> batch -> collate and
/// train (one block owns the model) -> checkpoint; then export embeddings of every sample and measure recall.
/// Every block is bounded, so memory stays flat however many shards there are.
/// </summary>
public sealed partial class PipelineJob
{
    private readonly PipelineDefinition _definition;
    private readonly ILogger<PipelineJob> _logger;

    public PipelineJob(PipelineDefinition definition, ILogger<PipelineJob> logger)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(logger);
        _definition = definition;
        _logger = logger;
    }

    /// <summary>
    /// Runs the job to the end. When <paramref name="stopping"/> fires, the run stops after the current step,
    /// writes a checkpoint and returns a summary marked as interrupted, without exporting.
    /// </summary>
    public async Task<RunSummary> RunAsync(CancellationToken stopping)
    {
        var clock = Stopwatch.StartNew();
        PipelineDefinition d = _definition;
        IReadOnlyList<string> shards = DiscoverShards();
        var reader = new ShardReader(d.Ingest());
        int totalSteps = d.Train.Steps ?? await StepsForEpochsAsync(reader, shards, stopping);

        var tokenizer = new CaptionTokenizer(d.Model.ContextLength);
        Directory.CreateDirectory(d.OutputDirectory);
        await using var recorder = new RunRecorder(Path.Combine(d.OutputDirectory, "rejects.parquet"), _logger);
        var preparer = new SamplePreparer(new ImageTransform(d.Augment(), d.Decode()), tokenizer, recorder,
            d.Train.Seed, d.Images.Size);

        torch.Device device = DeviceSelector.Resolve(d.Train.Device);
        using var trainer = new ClipTrainer(d.Model(tokenizer.VocabularySize), d.Optimizer(), totalSteps, device,
            d.Train.Seed);
        var checkpoints = new CheckpointStore(d.Checkpoint.Directory, d.Checkpoint.Keep);
        LogStarting(_logger, d.Name, shards.Count, totalSteps, device);

        using var loop = new TrainingLoop(d, trainer, checkpoints, SettingsJson(d), totalSteps, _logger, stopping);
        var order = new SampleOrder(shards, reader.ReadAsync, d.Train.Seed, d.Source.ShuffleBuffer, shuffle: true);
        await TrainAsync(order, preparer, recorder, loop, stopping);
        string? checkpoint = loop.SaveCheckpoint();

        ExportResult? export = null;
        if (!loop.Interrupted && d.Export.Enabled)
        {
            var exportOrder = new SampleOrder(shards, reader.ReadAsync, d.Train.Seed, 1, shuffle: false);
            export = await new EmbeddingExport(d, trainer, preparer, recorder).RunAsync(exportOrder, stopping);
        }

        var summary = new RunSummary
        {
            Pipeline = d.SourceFile,
            Shards = shards.Count,
            Steps = trainer.Step,
            SamplesTrained = loop.SamplesTrained,
            Interrupted = loop.Interrupted,
            RejectedByReason = new SortedDictionary<string, long>(recorder.RejectedByReason.ToDictionary()),
            Notes = new SortedDictionary<string, long>(recorder.Notes.ToDictionary()),
            Checkpoint = checkpoint,
            ExportedRows = export?.Rows ?? 0,
            EmbeddingShards = export?.Shards ?? [],
            Recall = export?.Recall,
            Seconds = Math.Round(clock.Elapsed.TotalSeconds, 1),
        };
        await summary.WriteAsync(Path.Combine(d.OutputDirectory, "summary.json"), CancellationToken.None);
        return summary;
    }

    private IReadOnlyList<string> DiscoverShards()
    {
        string baseDirectory = Path.GetDirectoryName(_definition.SourceFile) ?? Directory.GetCurrentDirectory();
        IReadOnlyList<string> shards = ShardDiscovery.Find(_definition.Source.Shards, baseDirectory);
        return shards.Count > 0
            ? shards
            : throw new PipelineRunException(
                $"{_definition.SourceFile}: no Parquet shards found at {string.Join(", ", _definition.Source.Shards)}");
    }

    // With epochs, the schedule needs a step count up front: row counts come from the shard footers, unread.
    private async Task<int> StepsForEpochsAsync(ShardReader reader, IReadOnlyList<string> shards,
        CancellationToken cancellationToken)
    {
        long rows = 0;
        foreach (string shard in shards)
        {
            try
            {
                rows += await reader.CountRowsAsync(shard, cancellationToken);
            }
            catch (ShardException)
            {
                // Counted and recorded when the shard is read for training; it adds no rows.
            }
        }
        long steps = rows / _definition.Batch.Size * _definition.Train.Epochs;
        return steps > 0
            ? (int)Math.Min(steps, int.MaxValue)
            : throw new PipelineRunException(
                $"{_definition.SourceFile}: the shards hold {rows} rows, fewer than one batch of " +
                $"{_definition.Batch.Size}; lower batch.size or add data");
    }

    private async Task TrainAsync(SampleOrder order, SamplePreparer preparer, RunRecorder recorder, TrainingLoop loop,
        CancellationToken stopping)
    {
        using var graph = new DataflowGraph();
        int workers = _definition.Images.Workers;
        int batchSize = _definition.Batch.Size;

        var prepare = graph.Add(new TransformManyBlock<OrderedSample, PreparedSample>(
            async s => await preparer.PrepareAsync(s, train: true, graph.Aborted) is { } p ? [p] : [],
            graph.Options(capacity: workers * 4, parallelism: workers)));
        var batch = graph.Add(new BatchBlock<PreparedSample>(batchSize, graph.GroupingOptions(batchSize * 2)));
        var train = graph.Add(new ActionBlock<PreparedSample[]>(loop.OnBatch, graph.Options(capacity: 2)));
        DataflowGraph.Link(prepare, batch);
        DataflowGraph.Link(batch, train);

        using var stopProducing = CancellationTokenSource.CreateLinkedTokenSource(stopping, loop.Finished);
        await graph.RunAsync(prepare, (head, aborted) =>
            ProduceEpochsAsync(order, preparer, recorder, head, stopProducing.Token, aborted));
    }

    // Feeds epochs until the loop has its steps, the epochs are done, or the run is stopped. An epoch that yields no
    // good sample at all means the data can never finish the run, so the run stops with that reason.
    private async Task ProduceEpochsAsync(SampleOrder order, SamplePreparer preparer, RunRecorder recorder,
        ITargetBlock<OrderedSample> head, CancellationToken stop, CancellationToken aborted)
    {
        int epochs = _definition.Train.Steps is null ? _definition.Train.Epochs : int.MaxValue;
        long index = 0;
        for (int epoch = 0; epoch < epochs && !stop.IsCancellationRequested; epoch++)
        {
            long goodBefore = preparer.Good;
            try
            {
                await foreach (OrderedSample sample in order.EpochAsync(epoch, index,
                    e => recorder.RejectAsync(new Rejection(e.Shard, e.Row, null, e.Message, null), "shard-corrupt",
                        aborted), stop))
                {
                    index = sample.Index + 1;
                    if (!await head.SendAsync(sample, stop))
                    {
                        return;
                    }
                }

                // Wait for the decode stage to catch up, so the epoch's good samples are all counted.
                while (preparer.Processed < index)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(10), stop);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested && !aborted.IsCancellationRequested)
            {
                return;
            }

            if (preparer.Good == goodBefore)
            {
                throw new PipelineRunException(
                    $"{_definition.SourceFile}: epoch {epoch} yielded no usable sample from {index} read so far; " +
                    $"rejections by reason: {string.Join(", ", recorder.RejectedByReason)}; see {recorder.RejectsPath}");
            }
        }
    }

    private static readonly JsonSerializerOptions SettingsJsonOptions = new() { WriteIndented = true };

    private static string SettingsJson(PipelineDefinition definition) =>
        JsonSerializer.Serialize(definition, SettingsJsonOptions);

    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "Pipeline {Pipeline}: {Shards} shards, {TotalSteps} steps on {Device}")]
    private static partial void LogStarting(ILogger logger, string pipeline, int shards, int totalSteps,
        torch.Device device);
}
