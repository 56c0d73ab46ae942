using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Ingest;

namespace DataflowContrastive.Host.Running;

/// <summary>What a mode needs from the data, checked before any sample is decoded.</summary>
public static class ModeData
{
    /// <summary>
    /// With <c>mode: supcon</c>, the class ids of the shards' labels (read from the label column alone); null in the
    /// other modes, which use no labels.
    /// </summary>
    /// <exception cref="PipelineRunException">
    /// The shards hold no label at all, or fewer distinct classes than one batch takes (<c>batch.classes</c>).
    /// </exception>
    public static async Task<LabelMap?> LabelsAsync(PipelineDefinition definition, ShardReader reader,
        IReadOnlyList<string> shards, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (definition.Mode != ContrastiveMode.SupCon)
        {
            return null;
        }
        LabelMap labels = await LabelMap.FromShardsAsync(reader, shards, cancellationToken);
        if (labels.Labels.Count == 0)
        {
            throw new PipelineRunException(
                $"{definition.SourceFile}: mode: supcon needs class labels, but none of the {shards.Count} shards " +
                "has a label column with a value in it; name it with source.columns.label, pack the images from " +
                "class folders, or use mode: simclr");
        }
        if (labels.Labels.Count < definition.Batch.Classes)
        {
            throw new PipelineRunException(
                $"{definition.SourceFile}: the shards hold {labels.Labels.Count} classes, fewer than the " +
                $"{definition.Batch.Classes} of one batch; lower batch.classes");
        }
        return labels;
    }
}
