using YamlDotNet.RepresentationModel;

namespace DataflowContrastive.Host.Pipelines;

/// <summary>
/// What <c>mode</c> changes in a pipeline file: the defaults it derives (the augmentation recipe, the size of a
/// class-balanced batch) and the keys that only one mode reads, refused in the others so that a file never holds a
/// setting that silently does nothing.
/// </summary>
internal static class ModeRules
{
    /// <summary>The lowest <c>loss.temperature</c> accepted: logits of unit vectors then stay within ±100.</summary>
    public const double MinTemperature = 0.01;

    private static readonly string[] SupConOnly = ["batch.classes", "batch.per_class"];

    /// <summary>Derives the mode's defaults into <paramref name="definition"/> and adds an error per misplaced key.
    /// </summary>
    public static void Apply(PipelineDefinition definition, YamlMappingNode? root, HashSet<string> seen,
        List<PipelineFileError> errors)
    {
        if (root is null || definition.Kind == PipelineKind.Export)
        {
            return;
        }
        ContrastiveMode mode = definition.Mode;
        string name = mode.ToString().ToLowerInvariant();

        // SimCLR and SupCon come with their own augmentations; a file may still pick another recipe.
        if (mode != ContrastiveMode.Clip && !seen.Contains("images.recipe"))
        {
            definition.Images.Recipe = name;
        }
        if (mode == ContrastiveMode.SupCon)
        {
            ApplyBalancedBatch(definition, root, seen, errors);
        }

        foreach (string key in SupConOnly.Where(k => mode != ContrastiveMode.SupCon && seen.Contains(k)))
        {
            errors.Add(Misplaced(definition, root, key, "is only read with mode: supcon"));
        }
        if (definition.Eval.Holdout > 0 && definition.Eval.Shards.Count > 0)
        {
            errors.Add(Misplaced(definition, root, "eval.shards",
                "and eval.holdout both choose the held-out split; set one of them"));
        }
        if (mode == ContrastiveMode.Clip && seen.Contains("loss.temperature"))
        {
            errors.Add(Misplaced(definition, root, "loss.temperature",
                "is only read with mode: simclr or supcon; CLIP learns its temperature"));
        }
        if (mode != ContrastiveMode.Clip && seen.Contains("loss.false_negatives"))
        {
            errors.Add(Misplaced(definition, root, "loss.false_negatives",
                $"is only read with mode: clip; mode: {name} has no captions to compare"));
        }
        if (mode != ContrastiveMode.Clip && definition.Export.Embeddings != ExportEmbeddings.Image
            && seen.Contains("export.embeddings"))
        {
            errors.Add(Misplaced(definition, root, "export.embeddings",
                $"must be image with mode: {name}, whose model has no text encoder"));
        }
    }

    // The batch is P classes x K samples; batch.size is derived, and a different one given beside it is an error.
    private static void ApplyBalancedBatch(PipelineDefinition definition, YamlMappingNode root, HashSet<string> seen,
        List<PipelineFileError> errors)
    {
        BatchSettings batch = definition.Batch;
        long size = (long)batch.Classes * batch.PerClass;
        if (size < 2 || size > 65_536)
        {
            errors.Add(Misplaced(definition, root, "batch.per_class",
                $"batch.classes x batch.per_class is {size}; it must be from 2 to 65536"));
            return;
        }
        if (seen.Contains("batch.size") && batch.Size != size)
        {
            errors.Add(Misplaced(definition, root, "batch.size",
                $"with mode: supcon the batch is batch.classes x batch.per_class = {size}; leave batch.size out"));
        }
        batch.Size = (int)size;
    }

    private static PipelineFileError Misplaced(PipelineDefinition definition, YamlMappingNode root, string key,
        string reason) => PipelineFileReader.At(definition, PipelineFileReader.Find(root, key), key, reason);
}
