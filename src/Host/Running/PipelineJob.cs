using System.Diagnostics;
using System.Text.Json;
using System.Threading.Tasks.Dataflow;
using DataflowContrastive.Augment;
using DataflowContrastive.Host.Export;
using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Host.Serving;
using DataflowContrastive.Ingest;
using DataflowContrastive.Train;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace DataflowContrastive.Host.Running;

/// <summary>A run that cannot go on (no shards, no usable samples, a stage that failed); its message says why.
/// </summary>
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
    private readonly RunOptions _options;
    private readonly ILogger<PipelineJob> _logger;

    public PipelineJob(PipelineDefinition definition, RunOptions options, ILogger<PipelineJob> logger)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _definition = definition;
        _options = options;
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
        IReadOnlyList<string> shards = _definition.DiscoverShards();
        var reader = new ShardReader(d.Ingest());
        long footerRows = await CountRowsAsync(reader, shards, stopping);
        int totalSteps = d.Train.Steps ?? StepsForEpochs(footerRows);

        var tokenizer = new CaptionTokenizer(d.Model.ContextLength);
        Directory.CreateDirectory(d.OutputDirectory);
        string rejects = Path.Combine(d.OutputDirectory, "rejects");
        // A run with no checkpoint to resume starts its accounting over. Served pipelines share the folder across
        // shards and workers, and keep it.
        if (!_options.ContinueOnNewShards && !CheckpointStore.HasCheckpoint(d.Checkpoint.Directory)
            && RunRecorder.SetAsideParts(rejects, TimeProvider.System) is { } earlier)
        {
            LogSetAside(_logger, earlier);
        }
        await using RunRecorder recorder = await RunRecorder.OpenPartsAsync(rejects, _logger, stopping);
        var preparer = new SamplePreparer(new ImageTransform(d.Augment(), d.Decode()), tokenizer, recorder,
            d.Train.Seed, d.Images.Size)
        {
            Mode = d.Mode,
            Labels = await ModeData.LabelsAsync(d, reader, shards, stopping),
            DuplicateKeys = d.Mode == ContrastiveMode.Clip && d.Loss.FalseNegatives != FalseNegativeMode.Ignore,
        };

        torch.Device device = DeviceSelector.Resolve(d.Train.Device);
        using ContrastiveTrainer trainer = BatchSteps.CreateTrainer(d, tokenizer.VocabularySize, totalSteps, device);

        // The export comes after training: a folder it would refuse is better found out before.
        if (d.Export.Enabled)
        {
            EmbeddingExport.RefuseOtherKind(d, trainer);
        }
        var checkpoints = new CheckpointStore(d.Checkpoint.Directory, d.Checkpoint.Keep);
        RunProgress progress = Resume(checkpoints, trainer, RunFingerprint.Compute(d, shards));
        LogStarting(_logger, d.Name, shards.Count, totalSteps, device);

        EvaluationSchedule evaluation = await CreateEvaluationAsync(shards, trainer, tokenizer, stopping);
        using var loop = new TrainingLoop(d, trainer, checkpoints, recorder, SettingsJson(d), totalSteps, progress,
            _logger, stopping) { AfterStep = evaluation.AfterStepAsync };
        if (trainer.Step < totalSteps)
        {
            // A stop may have cut short the evaluation of the step the run resumes from.
            if (trainer.Step > 0)
            {
                await evaluation.AfterStepAsync(trainer.Step, loop.SamplesTrained, stopping);
            }
            var order = new SampleOrder(shards, reader.ReadAsync, d.Train.Seed, d.Source.ShuffleBuffer, shuffle: true,
                HoldoutSplit.TrainingRows(d.Eval.Holdout));
            await TrainAsync(order, preparer, recorder, loop, stopping);
        }
        if (trainer.Step == 0 && !loop.Interrupted)
        {
            throw new PipelineRunException(
                $"{d.SourceFile}: no complete batch of {d.Batch.Size} was formed: {preparer.Good} good samples, " +
                $"{recorder.TotalRejected} rejected (see {recorder.RejectsPath}); lower batch.size or add data");
        }
        EvaluationRecord? evaluated = loop.Interrupted
            ? null
            : await evaluation.AtEndAsync(trainer.Step, loop.SamplesTrained, stopping);
        string? checkpoint = await loop.SaveCheckpointAsync();

        ExportResult? export = null;
        if (!loop.Interrupted && d.Export.Enabled)
        {
            var exportOrder = new SampleOrder(shards, reader.ReadAsync, d.Train.Seed, 1, shuffle: false);
            var model = new ExportedModel(trainer.Step, Safetensors.Fingerprint(trainer.Network), checkpoint);
            export = await new EmbeddingExport(d, trainer, preparer, recorder, model).RunAsync(exportOrder, stopping);
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
            ExportImagesPerSecond = export is null ? null : Math.Round(export.ImagesPerSecond, 1),
            ExportManifest = export?.Manifest,
            Evaluation = evaluated,
            Seconds = Math.Round(clock.Elapsed.TotalSeconds, 1),
        };
        await summary.WriteAsync(Path.Combine(d.OutputDirectory, "summary.json"), CancellationToken.None);
        return summary;
    }

    // A run whose checkpoint directory holds checkpoints continues from the newest: weights, optimizer, step and the
    // position in the sample order. One made from other data or settings is refused, unless the user says to resume
    // anyway, in which case only the weights, optimizer and step are kept.
    private RunProgress Resume(CheckpointStore checkpoints, ContrastiveTrainer trainer,
        IReadOnlyDictionary<string, string> fingerprint)
    {
        var fresh = new RunProgress { Fingerprint = fingerprint };
        CheckpointInfo? checkpoint = checkpoints.LoadLatest(trainer);
        if (checkpoint is null)
        {
            return fresh;
        }

        RunProgress? saved = checkpoint.ProgressJson is { } json ? RunProgress.FromJson(json) : null;
        IReadOnlyList<string> differences = saved is null
            ? ["the checkpoint holds no record of the run's progress"]
            : RunFingerprint.Differences(saved.Fingerprint, fingerprint);
        if (differences.Count == 0)
        {
            LogResuming(_logger, checkpoint.Path, checkpoint.Step, saved!.Epoch, saved.NextIndex);
            return saved;
        }
        if (_options.ContinueOnNewShards && saved is not null && OnlyShardsDiffer(saved.Fingerprint, fingerprint))
        {
            LogContinuing(_logger, checkpoint.Path, checkpoint.Step);
            return fresh with { SamplesTrained = saved.SamplesTrained };
        }
        if (!_options.ResumeAnyway)
        {
            throw new PipelineRunException(
                $"{checkpoint.Path} was made from other data or settings: {string.Join("; ", differences)}. Point " +
                "checkpoint.directory elsewhere to start afresh, or run with --resume-anyway to keep its weights, " +
                "optimizer and step and start the data from the beginning");
        }
        LogResumingAnyway(_logger, checkpoint.Path, checkpoint.Step, string.Join("; ", differences));
        return fresh with { SamplesTrained = saved?.SamplesTrained ?? 0 };
    }

    private static bool OnlyShardsDiffer(IReadOnlyDictionary<string, string> saved,
        IReadOnlyDictionary<string, string> current) =>
        RunFingerprint.Differences(saved.Where(p => p.Key != "shards").ToDictionary(),
            current.Where(p => p.Key != "shards").ToDictionary()).Count == 0;

    // The rows of every shard from its footer, unread. A shard without rows is no bad data, so no rejection, but
    // it is named in the log.
    private async Task<long> CountRowsAsync(ShardReader reader, IReadOnlyList<string> shards,
        CancellationToken cancellationToken)
    {
        long rows = 0;
        foreach (string shard in shards)
        {
            try
            {
                long shardRows = await reader.CountRowsAsync(shard, cancellationToken);
                if (shardRows == 0)
                {
                    LogEmptyShard(_logger, shard);
                }
                rows += shardRows;
            }
            catch (ShardException)
            {
                // Counted and recorded when the shard is read for training; it adds no rows.
            }
        }
        return rows;
    }

    // With epochs, the schedule needs a step count up front: row counts come from the shard footers.
    private int StepsForEpochs(long rows)
    {
        // Held-out rows do not train; their number is estimated from the share, since counting would read every key.
        rows = (long)(rows * (1 - _definition.Eval.Holdout));
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

        var prepare = graph.Add(new TransformManyBlock<OrderedSample, PreparedSample>(
            async s => await preparer.PrepareAsync(s, train: true, graph.Aborted) is { } p ? [p] : [],
            graph.Options(capacity: workers * 4, parallelism: workers)));
        var batch = graph.Add(BatchSteps.CreateBatcher(_definition, graph));
        var train = graph.Add(new ActionBlock<PreparedSample[]>(loop.OnBatchAsync, graph.Options(capacity: 2)));
        DataflowGraph.Link(prepare, batch);
        DataflowGraph.Link(batch, train);

        using var stopProducing = CancellationTokenSource.CreateLinkedTokenSource(stopping, loop.Finished);
        await graph.RunAsync(prepare, (head, aborted) =>
            ProduceEpochsAsync(order, preparer, recorder, loop.Progress, head, stopProducing.Token, aborted));
    }

    // Feeds epochs from where the run stands until the loop has its steps, the epochs are done, or the run is
    // stopped. Samples before the position are read (the order depends on them) but not decoded. An epoch that yields
    // no good sample at all means the data can never finish the run, so the run stops with that reason.
    private async Task ProduceEpochsAsync(SampleOrder order, SamplePreparer preparer, RunRecorder recorder,
        RunProgress from, ITargetBlock<OrderedSample> head, CancellationToken stop, CancellationToken aborted)
    {
        int epochs = _definition.Train.Steps is null ? _definition.Train.Epochs : int.MaxValue;
        long sent = 0;
        for (int epoch = from.Epoch; epoch < epochs && !stop.IsCancellationRequested; epoch++)
        {
            long skip = epoch == from.Epoch ? from.NextIndex : 0;
            HashSet<long> pending = epoch == from.Epoch ? [.. from.Pending] : [];
            long goodBefore = preparer.Good;
            long sentBefore = sent;
            try
            {
                await foreach (OrderedSample sample in order.EpochAsync(epoch,
                    e => recorder.RejectShardAsync(e, aborted), stop))
                {
                    if (sample.Index < skip && !pending.Contains(sample.Index))
                    {
                        continue;
                    }
                    if (!await head.SendAsync(sample, stop))
                    {
                        return;
                    }
                    sent++;
                }

                // Wait for the decode stage to catch up, so the epoch's good samples are all counted.
                while (preparer.Processed < sent)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(10), stop);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested && !aborted.IsCancellationRequested)
            {
                return;
            }

            if (sent == sentBefore && skip == 0)
            {
                throw new PipelineRunException(
                    $"{_definition.SourceFile}: epoch {epoch} read no row from any shard; rejections by reason: " +
                    $"{ShardRejections.Format(recorder.RejectedByReason)}; see {recorder.RejectsPath}");
            }
            // A whole epoch with fewer good samples than one batch would make every batch hold a pair twice, and
            // the loss would push the two copies apart as negatives.
            long good = preparer.Good - goodBefore;
            if (skip == 0 && good > 0 && good < _definition.Batch.Size)
            {
                throw new PipelineRunException(
                    $"{_definition.SourceFile}: an epoch holds {good} good samples, fewer than one batch of " +
                    $"{_definition.Batch.Size}, so every batch would repeat pairs; lower batch.size or add data " +
                    $"(rejections by reason: {ShardRejections.Format(recorder.RejectedByReason)})");
            }
            if (sent > sentBefore && preparer.Good == goodBefore)
            {
                throw new PipelineRunException(
                    $"{_definition.SourceFile}: epoch {epoch} yielded no usable sample from " +
                    $"{sent - sentBefore} read; " +
                    $"rejections by reason: {ShardRejections.Format(recorder.RejectedByReason)}; " +
                    $"see {recorder.RejectsPath}");
            }
        }
    }

    private static readonly JsonSerializerOptions SettingsJsonOptions = new() { WriteIndented = true };

    private static string SettingsJson(PipelineDefinition definition) =>
        JsonSerializer.Serialize(definition, SettingsJsonOptions);

    [LoggerMessage(EventId = 19, Level = LogLevel.Information,
        Message = "No checkpoint to resume: the rejects of an earlier run in this output folder were moved to " +
            "{Folder}")]
    private static partial void LogSetAside(ILogger logger, string folder);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information,
        Message = "Resuming from {Checkpoint}: step {Step}, epoch {Epoch}, sample {NextIndex} of that epoch")]
    private static partial void LogResuming(ILogger logger, string checkpoint, int step, int epoch, long nextIndex);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning,
        Message = "Resuming anyway from {Checkpoint} (step {Step}) with its weights, optimizer and step; the data " +
                  "starts from the beginning, since {Differences}")]
    private static partial void LogResumingAnyway(ILogger logger, string checkpoint, int step, string differences);

    [LoggerMessage(EventId = 7, Level = LogLevel.Information,
        Message = "Continuing from {Checkpoint} (step {Step}) on new shards, from their beginning")]
    private static partial void LogContinuing(ILogger logger, string checkpoint, int step);

    [LoggerMessage(EventId = 8, Level = LogLevel.Information, Message = "Shard {Shard} holds no rows")]
    private static partial void LogEmptyShard(ILogger logger, string shard);

    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "Pipeline {Pipeline}: {Shards} shards, {TotalSteps} steps on {Device}")]
    private static partial void LogStarting(ILogger logger, string pipeline, int shards, int totalSteps,
        torch.Device device);
}
