using System.Diagnostics;
using DataflowContrastive.Augment;
using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Host.Running;
using DataflowContrastive.Ingest;
using DataflowContrastive.Train;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace DataflowContrastive.Host.Export;

/// <summary>
/// The job of an export pipeline (<c>kind: export</c>, or <c>dfc export</c>): load a trained checkpoint, embed every
/// sample of the shards with the evaluation transform, write the embeddings and a manifest, and optionally the
/// weights as safetensors. Nothing is trained.
/// </summary>
public sealed partial class ExportJob
{
    private readonly PipelineDefinition _definition;
    private readonly ILogger _logger;

    /// <summary>Creates the job of <paramref name="definition"/>, which must be of kind export.</summary>
    public ExportJob(PipelineDefinition definition, ILogger<ExportJob> logger)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(logger);
        _definition = definition;
        _logger = logger;
    }

    /// <summary>Runs the export to the end; a stop request cancels it, leaving the finished shards listed.</summary>
    public async Task<RunSummary> RunAsync(CancellationToken stopping)
    {
        var clock = Stopwatch.StartNew();
        PipelineDefinition d = _definition;
        ExportCheckpoint checkpoint = ExportCheckpoint.Resolve(d.Export.Checkpoint);
        checkpoint.ApplyTo(d);
        IReadOnlyList<string> shards = _definition.DiscoverShards();

        var tokenizer = new CaptionTokenizer(d.Model.ContextLength);
        Directory.CreateDirectory(d.OutputDirectory);
        await using RunRecorder recorder =
            await RunRecorder.OpenPartsAsync(Path.Combine(d.OutputDirectory, "rejects"), _logger, stopping);
        var preparer = new SamplePreparer(new ImageTransform(d.Augment(), d.Decode()), tokenizer, recorder,
            d.Train.Seed, d.Images.Size) { Mode = d.Mode };

        torch.Device device = DeviceSelector.Resolve(d.Train.Device);
        using ContrastiveTrainer trainer = BatchSteps.CreateTrainer(d, tokenizer.VocabularySize, totalSteps: 1, device);
        LoadWeights(trainer, checkpoint);
        var model = new ExportedModel(checkpoint.Step, Safetensors.Fingerprint(trainer.Network), checkpoint.Folder);
        LogStarting(_logger, checkpoint.Folder, checkpoint.Step, shards.Count, device);

        var reader = new ShardReader(d.Ingest());
        var order = new SampleOrder(shards, reader.ReadAsync, d.Train.Seed, 1, shuffle: false);
        ExportResult export = await new EmbeddingExport(d, trainer, preparer, recorder, model)
            .RunAsync(order, stopping);
        LogExported(_logger, export.Rows, export.Elapsed.TotalSeconds, export.ImagesPerSecond,
            export.Embedding.TotalSeconds, export.Writing.TotalSeconds);

        var summary = new RunSummary
        {
            Pipeline = d.SourceFile,
            Shards = shards.Count,
            Steps = checkpoint.Step,
            SamplesTrained = 0,
            Interrupted = false,
            RejectedByReason = new SortedDictionary<string, long>(recorder.RejectedByReason.ToDictionary()),
            Notes = new SortedDictionary<string, long>(recorder.Notes.ToDictionary()),
            Checkpoint = checkpoint.Folder,
            ExportedRows = export.Rows,
            EmbeddingShards = export.Shards,
            Recall = export.Recall,
            ExportImagesPerSecond = Math.Round(export.ImagesPerSecond, 1),
            ExportManifest = export.Manifest,
            Seconds = Math.Round(clock.Elapsed.TotalSeconds, 1),
        };
        await summary.WriteAsync(Path.Combine(d.OutputDirectory, "summary.json"), CancellationToken.None);
        return summary;
    }

    private static void LoadWeights(ContrastiveTrainer trainer, ExportCheckpoint checkpoint)
    {
        try
        {
            using FileStream stream = File.OpenRead(checkpoint.ModelFile);
            trainer.Network.load(stream, strict: true);
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException)
        {
            throw new PipelineRunException(
                $"Checkpoint {checkpoint.Folder}: model.bin does not fit the model its settings.json describes " +
                $"({e.Message})", e);
        }
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Information,
        Message = "Export with {Checkpoint} (step {Step}): {Shards} shards on {Device}")]
    private static partial void LogStarting(ILogger logger, string checkpoint, int step, int shards,
        torch.Device device);

    [LoggerMessage(EventId = 21, Level = LogLevel.Information,
        Message = "Exported {Rows} rows in {Seconds:F1} s: {ImagesPerSecond:F1} images/s " +
                  "({EmbedSeconds:F1} s in the model, {WriteSeconds:F1} s writing)")]
    private static partial void LogExported(ILogger logger, long rows, double seconds, double imagesPerSecond,
        double embedSeconds, double writeSeconds);
}
