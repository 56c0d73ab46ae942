using DataflowContrastive.Augment;
using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Ingest;
using DataflowContrastive.Train;

namespace DataflowContrastive.Host.Running;

/// <summary>The evaluation part of a training run: its evaluator and when it runs.</summary>
public sealed partial class PipelineJob
{
    // The evaluator reads both splits in file order with its own reader, and embeds with the trainer's model.
    private async Task<EvaluationSchedule> CreateEvaluationAsync(IReadOnlyList<string> shards,
        ContrastiveTrainer trainer, CaptionTokenizer tokenizer, CancellationToken cancellationToken)
    {
        PipelineDefinition d = _definition;
        var order = new SampleOrder(shards, new ShardReader(d.Ingest()).ReadAsync, d.Train.Seed, 1, shuffle: false);
        var options = new EvaluationOptions(d.Eval.Holdout, d.Eval.MaxSamples, d.Eval.KnnK, d.Batch.Size,
            d.Images.Workers, (long)d.Eval.CacheMegabytes << 20);
        // Image-only models (simclr, supcon) have no text tower: their evaluation is k-NN and the collapse check.
        EvaluationTexts? texts = trainer is ClipTrainer clip ? new EvaluationTexts(tokenizer, clip.EmbedTexts) : null;
        var evaluator = new Evaluator(order, new ImageTransform(d.Augment(), d.Decode()), options, trainer.EmbedImages,
            texts)
        {
            Projections = trainer is ImageOnlyTrainer imageOnly ? imageOnly.ProjectImages : null,
            HeldOut = d.Eval.Shards.Count == 0
                ? null
                : new SampleOrder(d.DiscoverEvalShards(), new ShardReader(d.Ingest()).ReadAsync, d.Train.Seed, 1,
                    shuffle: false),
        };
        MetricsLog log = await MetricsLog.OpenAsync(d.OutputDirectory, trainer.Step, cancellationToken);
        return new EvaluationSchedule(evaluator, log, d.Eval.Every, _logger);
    }
}
