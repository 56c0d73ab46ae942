using System.Globalization;
using DataflowContrastive.Augment;
using DataflowContrastive.Host.Running;
using DataflowContrastive.Ingest;
using DataflowContrastive.Train;
using SkiaSharp;

namespace DataflowContrastive.Host.Pipelines;

/// <summary>Hands each area the options it owns, taken from a checked pipeline definition.</summary>
public static class AreaOptions
{
    /// <summary>
    /// The pipeline's shards, in their canonical order, leaving out every file under the run's own output folders: a
    /// run's rejects and embedding shards are Parquet too, and must never be read back as its input.
    /// </summary>
    public static IReadOnlyList<string> FindShards(this PipelineDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        string baseDirectory = Path.GetDirectoryName(definition.SourceFile) ?? Directory.GetCurrentDirectory();
        string[] outputs = [.. new[] { definition.OutputDirectory, definition.Checkpoint.Directory,
            definition.Export.Directory }.Where(d => d.Length > 0).Select(d => Path.TrimEndingDirectorySeparator(
                Path.GetFullPath(d)) + Path.DirectorySeparatorChar)];
        return [.. ShardDiscovery.Find(definition.Source.Shards, baseDirectory)
            .Where(shard => !outputs.Any(o => shard.StartsWith(o, StringComparison.Ordinal)))];
    }

    /// <summary>
    /// <see cref="FindShards"/>, or a run error when none is left: the file was checked to match some when it was
    /// read, so none now means they went away since.
    /// </summary>
    public static IReadOnlyList<string> DiscoverShards(this PipelineDefinition definition)
    {
        IReadOnlyList<string> shards = definition.FindShards();
        return shards.Count > 0
            ? shards
            : throw new PipelineRunException(
                $"{definition.SourceFile}: no Parquet shards found at {string.Join(", ", definition.Source.Shards)}");
    }

    /// <summary>The held-out shards that <c>eval.shards</c> names, or a run error when it names none that exist.
    /// </summary>
    public static IReadOnlyList<string> DiscoverEvalShards(this PipelineDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        string baseDirectory = Path.GetDirectoryName(definition.SourceFile) ?? Directory.GetCurrentDirectory();
        IReadOnlyList<string> shards = [.. ShardDiscovery.Find(definition.Eval.Shards, baseDirectory)];
        return shards.Count > 0
            ? shards
            : throw new PipelineRunException(
                $"{definition.SourceFile}: eval.shards: no Parquet shards found at " +
                string.Join(", ", definition.Eval.Shards));
    }

    public static IngestOptions Ingest(this PipelineDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        SourceSettings source = definition.Source;
        return new IngestOptions
        {
            Columns = new ColumnMapping
            {
                Image = source.ImageColumn,
                Caption = source.CaptionColumn,
                Label = source.LabelColumn,
                Key = source.KeyColumn,
            },
            MaxRowGroupBytes = source.MaxRowGroupBytes,
            MaxValueBytes = source.MaxValueBytes,
            RetryCount = source.Retries,
            RetryBaseDelay = source.RetryDelay,
        };
    }

    public static AugmentOptions Augment(this PipelineDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ImageSettings images = definition.Images;
        return new AugmentOptions
        {
            ImageSize = images.Size,
            Recipe = images.Recipe,
            ScaleMin = images.ScaleMin,
            ScaleMax = images.ScaleMax,
            RatioMin = images.RatioMin,
            RatioMax = images.RatioMax,
            FlipProbability = images.FlipProbability,
            JitterProbability = images.JitterProbability,
            Brightness = images.Brightness,
            Contrast = images.Contrast,
            Saturation = images.Saturation,
            Hue = images.Hue,
            GrayscaleProbability = images.GrayscaleProbability,
            BlurProbability = images.BlurProbability,
            BlurSigmaMin = images.BlurSigmaMin,
            BlurSigmaMax = images.BlurSigmaMax,
            SolarizeProbability = images.SolarizeProbability,
            SolarizeThreshold = images.SolarizeThreshold,
            Interpolation = images.Interpolation == "bilinear" ? ResampleFilter.Bilinear : ResampleFilter.Bicubic,
            ReducedDecode = images.ReducedDecode,
            Mean = [.. images.Mean],
            Std = [.. images.Std],
        };
    }

    public static DecodeOptions Decode(this PipelineDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        string hex = definition.Images.Background;
        return new DecodeOptions
        {
            MaxPixels = definition.Images.MaxPixels,
            Background = new SKColor(
                byte.Parse(hex.AsSpan(1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                byte.Parse(hex.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                byte.Parse(hex.AsSpan(5, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)),
        };
    }

    public static ModelOptions Model(this PipelineDefinition definition, int vocabularySize)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ModelSettings model = definition.Model;
        return new ModelOptions
        {
            EmbedDim = model.EmbedDim,
            ImageSize = definition.Images.Size,
            ImageWidths = [.. model.ImageWidths],
            TextWidth = model.TextWidth,
            TextLayers = model.TextLayers,
            TextHeads = model.TextHeads,
            ContextLength = model.ContextLength,
            VocabularySize = vocabularySize,
        };
    }

    public static OptimizerOptions Optimizer(this PipelineDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        OptimizerSettings optimizer = definition.Optimizer;
        return new OptimizerOptions
        {
            LearningRate = optimizer.LearningRate,
            WeightDecay = optimizer.WeightDecay,
            Beta1 = optimizer.Beta1,
            Beta2 = optimizer.Beta2,
            Epsilon = optimizer.Epsilon,
            WarmupSteps = optimizer.WarmupSteps,
        };
    }
}
