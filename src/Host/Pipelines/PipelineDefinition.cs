using DataflowContrastive.Train;

namespace DataflowContrastive.Host.Pipelines;

/// <summary>How positive and negative pairs are chosen.</summary>
public enum ContrastiveMode
{
    /// <summary>An image and its caption are positives; the other pairs of the batch are negatives.</summary>
    Clip,

    /// <summary>Instance discrimination: two augmented views of one image are positives, all other views negatives.
    /// </summary>
    SimClr,

    /// <summary>Supervised contrastive: every view with the same class label is a positive.</summary>
    SupCon,
}

/// <summary>What a pipeline file asks for.</summary>
public enum PipelineKind
{
    /// <summary>Train a model, checkpoint it, then export embeddings of every sample.</summary>
    Train,

    /// <summary>Embed the shards with a trained checkpoint; no training.</summary>
    Export,
}

/// <summary>How exported embeddings are laid out on disk.</summary>
public enum ExportLayout
{
    /// <summary>Parquet shards holding key, caption, label and the embeddings as float lists.</summary>
    Parquet,

    /// <summary>
    /// clip-retrieval's layout: <c>img_emb/img_emb_N.npy</c>, <c>text_emb/text_emb_N.npy</c> (float16) and a
    /// row-aligned <c>metadata/metadata_N.parquet</c>, as autofaiss and clip-retrieval read them.
    /// </summary>
    ClipRetrieval,
}

/// <summary>Which embeddings an export writes.</summary>
public enum ExportEmbeddings
{
    /// <summary>Image and text embeddings.</summary>
    Both,

    /// <summary>Image embeddings only.</summary>
    Image,

    /// <summary>Text embeddings only.</summary>
    Text,
}

/// <summary>
/// Everything a pipeline file says, with the defaults of every key it leaves out. Built only by
/// <see cref="PipelineFileReader"/>, which checks each value before any work starts. Relative paths in the file are
/// resolved against the folder that holds the file.
/// </summary>
public sealed class PipelineDefinition
{
    /// <summary>The pipeline file this definition was read from, as a full path.</summary>
    public string SourceFile { get; internal set; } = "";

    /// <summary>A short name for logs; the file name without its extension unless <c>name</c> says otherwise.</summary>
    public string Name { get; internal set; } = "";

    /// <summary>Train (the default) or export embeddings with a trained checkpoint.</summary>
    public PipelineKind Kind { get; internal set; } = PipelineKind.Train;

    public ContrastiveMode Mode { get; internal set; } = ContrastiveMode.Clip;

    public SourceSettings Source { get; } = new();

    public ImageSettings Images { get; } = new();

    public BatchSettings Batch { get; } = new();

    public LossSettings Loss { get; } = new();

    public ModelSettings Model { get; } = new();

    public OptimizerSettings Optimizer { get; } = new();

    public TrainSettings Train { get; } = new();

    public CheckpointSettings Checkpoint { get; } = new();

    public ExportSettings Export { get; } = new();

    public EvalSettings Eval { get; } = new();

    /// <summary>How <c>dfc serve</c> runs the pipeline; <c>dfc run</c> ignores these.</summary>
    public ServeSettings Serve { get; } = new();

    /// <summary>The folder for everything a run writes: rejects, summary, and by default checkpoints and embeddings.
    /// </summary>
    public string OutputDirectory { get; internal set; } = "";
}

public sealed class SourceSettings
{
    public IReadOnlyList<string> Shards { get; internal set; } = [];

    public string? ImageColumn { get; internal set; }

    public string? CaptionColumn { get; internal set; }

    public string? LabelColumn { get; internal set; }

    public string? KeyColumn { get; internal set; }

    public long MaxRowGroupBytes { get; internal set; } = 512L << 20;

    public long MaxValueBytes { get; internal set; } = 64L << 20;

    public int Retries { get; internal set; } = 3;

    public TimeSpan RetryDelay { get; internal set; } = TimeSpan.FromMilliseconds(200);

    public int ShuffleBuffer { get; internal set; } = 1000;
}

/// <summary>Decoding and augmentation. Null values take the default of the chosen recipe.</summary>
public sealed class ImageSettings
{
    public int Size { get; internal set; } = 224;

    public string Recipe { get; internal set; } = "clip";

    public double? ScaleMin { get; internal set; }

    public double? ScaleMax { get; internal set; }

    public double RatioMin { get; internal set; } = 3.0 / 4.0;

    public double RatioMax { get; internal set; } = 4.0 / 3.0;

    public double? FlipProbability { get; internal set; }

    public double? JitterProbability { get; internal set; }

    public double? Brightness { get; internal set; }

    public double? Contrast { get; internal set; }

    public double? Saturation { get; internal set; }

    public double? Hue { get; internal set; }

    public double? GrayscaleProbability { get; internal set; }

    public double? BlurProbability { get; internal set; }

    public double? BlurSigmaMin { get; internal set; }

    public double? BlurSigmaMax { get; internal set; }

    public double? SolarizeProbability { get; internal set; }

    public int? SolarizeThreshold { get; internal set; }

    public string Interpolation { get; internal set; } = "bicubic";

    public bool ReducedDecode { get; internal set; } = true;

    public IReadOnlyList<float> Mean { get; internal set; } = [0.48145466f, 0.4578275f, 0.40821073f];

    public IReadOnlyList<float> Std { get; internal set; } = [0.26862954f, 0.26130258f, 0.27577711f];

    public long MaxPixels { get; internal set; } = 89_478_485;

    /// <summary>The colour that transparent pixels are composited onto, as #RRGGBB.</summary>
    public string Background { get; internal set; } = "#ffffff";

    public int Workers { get; internal set; } = Environment.ProcessorCount;
}

public sealed class BatchSettings
{
    public int Size { get; internal set; } = 32;

    /// <summary>With <see cref="ContrastiveMode.SupCon"/>: classes per batch (P). Default 8.</summary>
    public int Classes { get; internal set; } = 8;

    /// <summary>With <see cref="ContrastiveMode.SupCon"/>: samples of each class per batch (K). Default 4.</summary>
    public int PerClass { get; internal set; } = 4;
}

/// <summary>Settings of the contrastive loss.</summary>
public sealed class LossSettings
{
    /// <summary>τ of NT-Xent and SupCon (CLIP learns its own). Default 0.1.</summary>
    public double Temperature { get; internal set; } = 0.1;

    /// <summary>
    /// With <see cref="ContrastiveMode.Clip"/>: what rows sharing a caption or an image are to each other. Default
    /// <see cref="FalseNegativeMode.Positive"/>.
    /// </summary>
    public FalseNegativeMode FalseNegatives { get; internal set; } = FalseNegativeMode.Positive;
}

public sealed class ModelSettings
{
    public int EmbedDim { get; internal set; } = 128;

    public IReadOnlyList<int> ImageWidths { get; internal set; } = [32, 64, 128, 256];

    public int TextWidth { get; internal set; } = 128;

    public int TextLayers { get; internal set; } = 2;

    public int TextHeads { get; internal set; } = 4;

    public int ContextLength { get; internal set; } = 32;
}

public sealed class OptimizerSettings
{
    public double LearningRate { get; internal set; } = 5e-4;

    public double WeightDecay { get; internal set; } = 0.1;

    public double Beta1 { get; internal set; } = 0.9;

    public double Beta2 { get; internal set; } = 0.98;

    public double Epsilon { get; internal set; } = 1e-6;

    public int WarmupSteps { get; internal set; } = 10;
}

public sealed class TrainSettings
{
    /// <summary>Passes over the data; ignored when <see cref="Steps"/> is set.</summary>
    public int Epochs { get; internal set; } = 1;

    /// <summary>Optimizer steps to take, or null to run <see cref="Epochs"/> passes.</summary>
    public int? Steps { get; internal set; }

    public long Seed { get; internal set; } = 42;

    public string Device { get; internal set; } = "auto";

    public int LogEvery { get; internal set; } = 10;

    /// <summary>Steps in a row with a non-finite loss or gradients that are skipped before the run stops.</summary>
    public int MaxSkippedSteps { get; internal set; } = 10;

    /// <summary>
    /// Wall-clock minutes after which the run ends as if it had all its steps (evaluation, checkpoint, export), or
    /// null for no limit. The learning-rate schedule still spans <see cref="Steps"/>.
    /// </summary>
    public double? MaxMinutes { get; internal set; }
}

public sealed class CheckpointSettings
{
    public string Directory { get; internal set; } = "";

    public int Every { get; internal set; } = 100;

    public int Keep { get; internal set; } = 3;
}

public sealed class ExportSettings
{
    public bool Enabled { get; internal set; } = true;

    public string Directory { get; internal set; } = "";

    public int RowsPerShard { get; internal set; } = 10_000;

    public int RecallSamples { get; internal set; } = 10_000;

    /// <summary>
    /// For <see cref="PipelineKind.Export"/>: a checkpoint's step folder, or a checkpoint directory (its newest
    /// checkpoint is taken). Empty for a training run, which exports the model it trained.
    /// </summary>
    public string Checkpoint { get; internal set; } = "";

    public ExportLayout Layout { get; internal set; } = ExportLayout.Parquet;

    public ExportEmbeddings Embeddings { get; internal set; } = ExportEmbeddings.Both;

    /// <summary>True to start a new output shard with each input shard, as well as every RowsPerShard rows.</summary>
    public bool ShardPerInput { get; internal set; }

    /// <summary>True to also write the model's weights as <c>model.safetensors</c> in the export directory.</summary>
    public bool SaveSafetensors { get; internal set; }
}

/// <summary>Evaluation during and after training; see <c>EvaluationSchedule</c>.</summary>
public sealed class EvalSettings
{
    /// <summary>Share of sample keys held out of training, chosen by a stable hash of the key; 0 holds none out.
    /// </summary>
    public double Holdout { get; internal set; }

    /// <summary>Shards (full paths or globs) whose rows are the held-out queries, instead of a share of the keys;
    /// empty for none.</summary>
    public IReadOnlyList<string> Shards { get; internal set; } = [];

    /// <summary>Steps between evaluations; 0 evaluates only at the end.</summary>
    public int Every { get; internal set; }

    /// <summary>Cap on the held-out queries and, separately, on the training rows used as k-NN memory.</summary>
    public int MaxSamples { get; internal set; } = 1000;

    /// <summary>Neighbours that vote in the k-NN accuracy.</summary>
    public int KnnK { get; internal set; } = 20;

    /// <summary>MiB of decoded evaluation images kept between evaluations.</summary>
    public int CacheMegabytes { get; internal set; } = 1024;
}

/// <summary>
/// How <c>dfc serve</c> runs the pipeline: what starts a pass (a schedule, a watch on the source folders), what each
/// new shard gets (training steps, an export), and where the shard ledger lives.
/// </summary>
public sealed class ServeSettings
{
    /// <summary>A cron expression (5 fields, or 6 with seconds first) that starts a pass; null for none.</summary>
    public string? Schedule { get; internal set; }

    /// <summary>The IANA time zone the schedule is read in; UTC by default.</summary>
    public string TimeZone { get; internal set; } = "UTC";

    /// <summary>True to start a pass when a file appears in the source folders.</summary>
    public bool Watch { get; internal set; }

    /// <summary>Time between full rescans while watching, which catch what a file-system watcher missed.</summary>
    public TimeSpan Rescan { get; internal set; } = TimeSpan.FromSeconds(60);

    /// <summary>A shard modified more recently than this is left for a later pass: it may still be being written.
    /// </summary>
    public TimeSpan Settle { get; internal set; } = TimeSpan.FromSeconds(2);

    /// <summary>Optimizer steps taken on each new shard (training pipelines).</summary>
    public int StepsPerShard { get; internal set; } = 100;

    /// <summary>True to export each new shard's embeddings and publish them in the index.</summary>
    public bool Export { get; internal set; } = true;

    /// <summary>The ledger: empty for a file in the output folder, or a spec such as <c>sqlite:PATH</c>.</summary>
    public string Ledger { get; internal set; } = "";

    /// <summary>How long a shard's lease lasts; it is renewed at a third of that while the shard is worked on.
    /// </summary>
    public TimeSpan Lease { get; internal set; } = TimeSpan.FromMinutes(5);

    /// <summary>The first delay before a failed pass is retried; it doubles up to ten minutes.</summary>
    public TimeSpan RetryDelay { get; internal set; } = TimeSpan.FromSeconds(5);
}
