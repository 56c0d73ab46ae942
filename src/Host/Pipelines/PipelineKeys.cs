using System.Globalization;
using DataflowContrastive.Train;
using YamlDotNet.RepresentationModel;

namespace DataflowContrastive.Host.Pipelines;

/// <summary>
/// One key a pipeline file may hold: its dotted path, what it means, its default, and how its value is parsed into a
/// <see cref="PipelineDefinition"/>. The README's key table is checked against this list by a test.
/// </summary>
public sealed record PipelineKey(string Path, string Default, string Description, PipelineKey.Binder Bind)
{
    /// <summary>Parses <paramref name="value"/> into the definition, or throws <see cref="FormatException"/>.</summary>
    public delegate void Binder(YamlNode value, PipelineDefinition definition, string baseDirectory);
}

/// <summary>Every key of a pipeline file. Values out of range are refused here, naming the range.</summary>
public static class PipelineKeys
{
    public static IReadOnlyList<PipelineKey> All { get; } =
    [
        new("kind", "train", "`train`, or `export`: embed the shards with `export.checkpoint`, no training.",
            (v, d, _) => d.Kind = Enum<PipelineKind>(v)),
        new("name", "file name", "A short name for logs.", (v, d, _) => d.Name = Text(v)),
        new("mode", "clip", "How pairs are made: `clip`, `simclr` or `supcon` (see Modes).",
            (v, d, _) => d.Mode = Enum<ContrastiveMode>(v)),
        new("output", "runs/NAME", "Folder for everything a run writes (default under the current folder).",
            (v, d, b) => d.OutputDirectory = FullPath(v, b)),

        new("source.shards", "(required)", "Parquet files, folders or globs (`*`, `**`), one or a list.",
            (v, d, b) => d.Source.Shards = TextList(v).Select(p => FullPath(p, b)).ToArray()),
        new("source.columns.image", "detected", "Image column: a {bytes, path} struct or a binary column.",
            (v, d, _) => d.Source.ImageColumn = Text(v)),
        new("source.columns.caption", "detected", "Caption column (string).",
            (v, d, _) => d.Source.CaptionColumn = Text(v)),
        new("source.columns.label", "detected", "Class label column (integer or string).",
            (v, d, _) => d.Source.LabelColumn = Text(v)),
        new("source.columns.key", "detected", "Sample key column; otherwise `FILE:ROW`.",
            (v, d, _) => d.Source.KeyColumn = Text(v)),
        new("source.max_row_group_bytes", "536870912", "A row group larger than this is rejected, not loaded.",
            (v, d, _) => d.Source.MaxRowGroupBytes = Int64(v, 1, long.MaxValue)),
        new("source.max_value_bytes", "67108864", "A single value larger than this is rejected.",
            (v, d, _) => d.Source.MaxValueBytes = Int64(v, 1, Array.MaxLength)),
        new("source.retries", "3", "Retries of a transient I/O error (exponential backoff with jitter).",
            (v, d, _) => d.Source.Retries = Int32(v, 0, 100)),
        new("source.retry_delay_ms", "200", "First retry delay in milliseconds; it doubles on each retry.",
            (v, d, _) => d.Source.RetryDelay = TimeSpan.FromMilliseconds(Int32(v, 0, 600_000))),
        new("source.shuffle_buffer", "1000", "Samples held to shuffle the stream (1 keeps the shard order).",
            (v, d, _) => d.Source.ShuffleBuffer = Int32(v, 1, 1_000_000)),

        new("images.size", "224", "Side of the square training image, in pixels.",
            (v, d, _) => d.Images.Size = Int32(v, PipelineLimits.MinImageSize, PipelineLimits.MaxImageSize)),
        new("images.recipe", "clip", "Augmentation recipe: `clip`, `simclr`, `supcon` or `eval` (see Augmentation).",
            (v, d, _) => d.Images.Recipe = OneOf(v, "clip", "simclr", "supcon", "eval")),
        new("images.scale", "recipe's", "Random resized crop: range of the crop's share of the image area.",
            (v, d, _) => (d.Images.ScaleMin, d.Images.ScaleMax) = Range(v, 0, 1)),
        new("images.ratio", "[0.75, 1.3333]", "Random resized crop: range of the crop's aspect ratio.",
            (v, d, _) => (d.Images.RatioMin, d.Images.RatioMax) = Range(v, 0.01, 100)),
        new("images.flip", "recipe's", "Probability of a horizontal flip.",
            (v, d, _) => d.Images.FlipProbability = Double(v, 0, 1)),
        new("images.jitter.probability", "recipe's", "Probability that colour jitter runs (parts in random order).",
            (v, d, _) => d.Images.JitterProbability = Double(v, 0, 1)),
        new("images.jitter.brightness", "recipe's", "Brightness factor drawn from [max(0, 1 - x), 1 + x].",
            (v, d, _) => d.Images.Brightness = Double(v, 0, 10)),
        new("images.jitter.contrast", "recipe's", "Contrast factor drawn from [max(0, 1 - x), 1 + x].",
            (v, d, _) => d.Images.Contrast = Double(v, 0, 10)),
        new("images.jitter.saturation", "recipe's", "Saturation factor drawn from [max(0, 1 - x), 1 + x].",
            (v, d, _) => d.Images.Saturation = Double(v, 0, 10)),
        new("images.jitter.hue", "recipe's", "Hue shift drawn from [-x, x], x at most 0.5.",
            (v, d, _) => d.Images.Hue = Double(v, 0, 0.5)),
        new("images.grayscale", "recipe's", "Probability of turning the image gray.",
            (v, d, _) => d.Images.GrayscaleProbability = Double(v, 0, 1)),
        new("images.blur.probability", "recipe's", "Probability of a Gaussian blur (kernel a tenth of the side).",
            (v, d, _) => d.Images.BlurProbability = Double(v, 0, 1)),
        new("images.blur.sigma", "[0.1, 2.0]", "Range the blur's sigma is drawn from.",
            (v, d, _) => (d.Images.BlurSigmaMin, d.Images.BlurSigmaMax) = Range(v, 0, 100)),
        new("images.solarize.probability", "0", "Probability of solarizing.",
            (v, d, _) => d.Images.SolarizeProbability = Double(v, 0, 1)),
        new("images.solarize.threshold", "128", "Pixel values at or above it are inverted.",
            (v, d, _) => d.Images.SolarizeThreshold = Int32(v, 0, 256)),
        new("images.interpolation", "bicubic", "Resize filter: `bicubic` (as open_clip) or `bilinear`.",
            (v, d, _) => d.Images.Interpolation = OneOf(v, "bicubic", "bilinear")),
        new("images.reduced_decode", "true", "Decode JPEGs at 1/2, 1/4 or 1/8 scale where the output is small enough.",
            (v, d, _) => d.Images.ReducedDecode = Bool(v)),
        new("images.mean", "CLIP's", "Per-channel mean (RGB) subtracted after scaling to [0, 1].",
            (v, d, _) => d.Images.Mean = FloatTriple(v, 0, 1)),
        new("images.std", "CLIP's", "Per-channel standard deviation (RGB) divided by.",
            (v, d, _) => d.Images.Std = FloatTriple(v, 1e-6, 10)),
        new("images.max_pixels", "89478485", "Images whose header claims more pixels are rejected unread.",
            (v, d, _) => d.Images.MaxPixels = Int64(v, 1, Augment.DecodeOptions.LargestMaxPixels)),
        new("images.background", "\"#ffffff\"", "Colour that transparency is composited onto.",
            (v, d, _) => d.Images.Background = Colour(v)),
        new("images.workers", "cores", "Images decoded in parallel.",
            (v, d, _) => d.Images.Workers = Int32(v, PipelineLimits.MinWorkers, PipelineLimits.MaxWorkers)),

        new("batch.size", "32", "Pairs per optimizer step (the last incomplete batch is dropped).",
            (v, d, _) => d.Batch.Size = Int32(v, 2, 65_536)),
        new("batch.classes", "8", "`supcon`: classes per batch (P); the batch is P x K samples.",
            (v, d, _) => d.Batch.Classes = Int32(v, 1, 4096)),
        new("batch.per_class", "4", "`supcon`: samples of each class per batch (K).",
            (v, d, _) => d.Batch.PerClass = Int32(v, 1, 4096)),

        new("loss.temperature", "0.1", "`simclr`, `supcon`: temperature of the loss (CLIP learns its own).",
            (v, d, _) => d.Loss.Temperature = Double(v, ModeRules.MinTemperature, 10)),
        new("loss.false_negatives", "positives", "`clip`: rows sharing a caption or image: `positives`, `mask`, `off`.",
            (v, d, _) => d.Loss.FalseNegatives = OneOf(v, "positives", "mask", "off") switch
            {
                "positives" => FalseNegativeMode.Positive,
                "mask" => FalseNegativeMode.Masked,
                _ => FalseNegativeMode.Ignore,
            }),

        new("model.embed_dim", "128", "Width of the shared embedding.",
            (v, d, _) => d.Model.EmbedDim = Int32(v, 2, 8192)),
        new("model.image_widths", "[32, 64, 128, 256]", "Channels of each stride-2 stage of the image encoder.",
            (v, d, _) => d.Model.ImageWidths = IntList(v, 1, 4096)),
        new("model.text_width", "128", "Width of the text Transformer.",
            (v, d, _) => d.Model.TextWidth = Int32(v, 8, 8192)),
        new("model.text_layers", "2", "Layers of the text Transformer.",
            (v, d, _) => d.Model.TextLayers = Int32(v, 1, 64)),
        new("model.text_heads", "4", "Attention heads of the text Transformer; must divide `text_width`.",
            (v, d, _) => d.Model.TextHeads = Int32(v, 1, 128)),
        new("model.context_length", "32", "Tokens per caption, start and end included; longer ones are cut.",
            (v, d, _) => d.Model.ContextLength = Int32(v, PipelineLimits.MinContextLength,
                PipelineLimits.MaxContextLength)),

        new("optimizer.learning_rate", "0.0005", "Peak AdamW learning rate.",
            (v, d, _) => d.Optimizer.LearningRate = Double(v, 0, 10)),
        new("optimizer.weight_decay", "0.1", "AdamW weight decay (not applied to biases, norms, temperature).",
            (v, d, _) => d.Optimizer.WeightDecay = Double(v, 0, 10)),
        new("optimizer.betas", "[0.9, 0.98]", "AdamW betas.",
            (v, d, _) => (d.Optimizer.Beta1, d.Optimizer.Beta2) = Pair(v, 0, 0.999999)),
        new("optimizer.epsilon", "1e-6", "AdamW epsilon.",
            (v, d, _) => d.Optimizer.Epsilon = Double(v, 1e-12, 1)),
        new("optimizer.warmup_steps", "10", "Linear warm-up steps; then cosine decay to zero.",
            (v, d, _) => d.Optimizer.WarmupSteps = Int32(v, 0, int.MaxValue)),

        new("train.epochs", "1", "Passes over the data (unless `train.steps` is set).",
            (v, d, _) => d.Train.Epochs = Int32(v, 1, 100_000)),
        new("train.steps", "none", "Optimizer steps; the data is repeated as often as needed.",
            (v, d, _) => d.Train.Steps = Int32(v, 1, int.MaxValue)),
        new("train.seed", "42", "Seed of the sample order, the augmentations and the initial weights.",
            (v, d, _) => d.Train.Seed = Int64(v, 0, long.MaxValue)),
        new("train.device", "auto", "`auto` (CUDA when present), `cpu` or `cuda`.",
            (v, d, _) => d.Train.Device = OneOf(v, "auto", "cpu", "cuda")),
        new("train.log_every", "10", "Steps between progress lines.",
            (v, d, _) => d.Train.LogEvery = Int32(v, 1, int.MaxValue)),
        new("train.max_skipped_steps", "10", "Non-finite steps in a row that are skipped before the run stops.",
            (v, d, _) => d.Train.MaxSkippedSteps = Int32(v, 0, 1_000_000)),
        new("train.max_minutes", "none", "Wall-clock minutes after which the run ends as if it had all its steps.",
            (v, d, _) => d.Train.MaxMinutes = Double(v, 0.01, 525_600)),

        new("checkpoint.directory", "OUTPUT/checkpoints", "Where checkpoints are written.",
            (v, d, b) => d.Checkpoint.Directory = FullPath(v, b)),
        new("checkpoint.every", "100", "Steps between checkpoints (one is also written at the end).",
            (v, d, _) => d.Checkpoint.Every = Int32(v, 1, int.MaxValue)),
        new("checkpoint.keep", "3", "How many of the newest checkpoints are kept.",
            (v, d, _) => d.Checkpoint.Keep = Int32(v, 1, 10_000)),

        new("export.enabled", "true", "Export embeddings of every sample after training.",
            (v, d, _) => d.Export.Enabled = Bool(v)),
        new("export.directory", "OUTPUT/embeddings", "Where embedding shards are written.",
            (v, d, b) => d.Export.Directory = FullPath(v, b)),
        new("export.rows_per_shard", "10000", "Rows per embedding shard.",
            (v, d, _) => d.Export.RowsPerShard = Int32(v, 1, int.MaxValue)),
        new("export.recall_samples", "10000", "Exported samples that the recall@k summary is computed over.",
            (v, d, _) => d.Export.RecallSamples = Int32(v, 2, 1_000_000)),
        new("export.checkpoint", "(required for export)",
            "A `step-N` checkpoint folder, or a directory of them (the newest).",
            (v, d, b) => d.Export.Checkpoint = FullPath(v, b)),
        new("export.layout", "parquet", "`parquet` or `clip-retrieval` (`.npy` float16 + metadata Parquet).",
            (v, d, _) => d.Export.Layout = OneOf(v, "parquet", "clip-retrieval") == "parquet"
                ? ExportLayout.Parquet
                : ExportLayout.ClipRetrieval),
        new("export.embeddings", "both", "Which embeddings are written: `image`, `text` or `both`.",
            (v, d, _) => d.Export.Embeddings = Enum<ExportEmbeddings>(v)),
        new("export.shard_per_input", "false", "Also start a new embedding shard with each input shard.",
            (v, d, _) => d.Export.ShardPerInput = Bool(v)),
        new("export.save_safetensors", "false", "Also write the weights as `model.safetensors` for Python.",
            (v, d, _) => d.Export.SaveSafetensors = Bool(v)),

        new("eval.holdout", "0", "Share of sample keys (0 to 0.5) held out of training, for evaluation.",
            (v, d, _) => d.Eval.Holdout = Double(v, 0, 0.5)),
        new("eval.shards", "none", "Held-out shards (files, folders, globs) as the queries, instead of `eval.holdout`.",
            (v, d, b) => d.Eval.Shards = TextList(v).Select(p => FullPath(p, b)).ToArray()),
        new("eval.every", "0", "Steps between evaluations; 0 evaluates only at the end of the run.",
            (v, d, _) => d.Eval.Every = Int32(v, 0, int.MaxValue)),
        new("eval.max_samples", "1000", "At most this many held-out queries, and training rows as k-NN memory.",
            (v, d, _) => d.Eval.MaxSamples = Int32(v, 2, 1_000_000)),
        new("eval.knn_k", "20", "Neighbours that vote in the k-NN accuracy.",
            (v, d, _) => d.Eval.KnnK = Int32(v, 1, 100_000)),
        new("eval.cache_mb", "1024", "MiB of decoded evaluation images kept between evaluations (0: decode each time).",
            (v, d, _) => d.Eval.CacheMegabytes = Int32(v, 0, 1_048_576)),
        new("serve.schedule", "none", "`dfc serve`: a cron expression (5 fields, or 6 with seconds) starting a pass.",
            (v, d, _) => d.Serve.Schedule = Cron(v)),
        new("serve.time_zone", "UTC", "`dfc serve`: the IANA time zone the schedule is read in (`Europe/Berlin`).",
            (v, d, _) => d.Serve.TimeZone = Zone(v)),
        new("serve.watch", "false", "`dfc serve`: start a pass when a shard appears in the source folders.",
            (v, d, _) => d.Serve.Watch = Bool(v)),
        new("serve.rescan_seconds", "60", "`dfc serve`: seconds between full rescans while watching.",
            (v, d, _) => d.Serve.Rescan = TimeSpan.FromSeconds(Int32(v, 1, 86_400))),
        new("serve.settle_seconds", "2", "`dfc serve`: a shard modified more recently waits for a later pass.",
            (v, d, _) => d.Serve.Settle = TimeSpan.FromSeconds(Int32(v, 0, 3_600))),
        new("serve.steps_per_shard", "100", "`dfc serve`: optimizer steps per new shard, from the newest checkpoint.",
            (v, d, _) => d.Serve.StepsPerShard = Int32(v, 1, int.MaxValue)),
        new("serve.export", "true", "`dfc serve`: export each new shard's embeddings and list them in `index.json`.",
            (v, d, _) => d.Serve.Export = Bool(v)),
        new("serve.ledger", "OUTPUT/ledger.db", "`dfc serve`: the shard ledger, `sqlite:PATH` or PostgreSQL.",
            (v, d, _) => d.Serve.Ledger = Ledger(v)),
        new("serve.lease_seconds", "300", "`dfc serve`: how long a worker holds a shard between renewals.",
            (v, d, _) => d.Serve.Lease = TimeSpan.FromSeconds(Int32(v, 3, 86_400))),
        new("serve.retry_delay_seconds", "5", "`dfc serve`: first wait before a failed pass is retried (doubles).",
            (v, d, _) => d.Serve.RetryDelay = TimeSpan.FromSeconds(Int32(v, 1, 3_600))),
    ];

    private static string Cron(YamlNode node)
    {
        string text = Text(node);

        // The parser's own message for a missing field names a field the user never wrote.
        int fields = text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).Length;
        if (fields is not (5 or 6))
        {
            throw new FormatException("not a cron expression: expected 5 fields (minute hour day-of-month month " +
                $"day-of-week), or 6 with seconds first; got {fields}");
        }
        try
        {
            _ = Serving.ServeSchedule.ParseCron(text);
            return text;
        }
        catch (Cronos.CronFormatException e)
        {
            throw new FormatException($"not a cron expression ({Printable(e.Message)})", e);
        }
    }

    // A parser that reads past the end reports the character there, NUL: a message shows it as an escape instead.
    private static string Printable(string message) => string.Concat(message.Select(c => char.IsControl(c)
        ? $"\\u{(int)c:X4}" : c.ToString()));

    private static string Ledger(YamlNode node)
    {
        string text = Text(node);
        try
        {
            _ = DataflowContrastive.Host.Ledger.LedgerSpec.Parse(text, "ledger.db");
            return text;
        }
        catch (ArgumentException e)
        {
            throw new FormatException(e.Message, e);
        }
    }

    private static string Zone(YamlNode node)
    {
        string text = Text(node);
        try
        {
            _ = TimeZoneInfo.FindSystemTimeZoneById(text);
            return text;
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw new FormatException($"unknown time zone '{text}'; name an IANA zone such as Europe/Berlin", e);
        }
    }

    private static string Text(YamlNode node)
    {
        string text = Scalar(node);
        return text.Length > 0 ? text : throw new FormatException("expected a non-empty text");
    }

    private static string Scalar(YamlNode node) =>
        node is YamlScalarNode { Value: { } value } ? value.Trim() : throw new FormatException(
            $"expected a single value, got a {(node is YamlSequenceNode ? "list" : "mapping")}");

    private static string[] TextList(YamlNode node) => node switch
    {
        YamlSequenceNode list when list.Children.Count > 0 => list.Children.Select(Text).ToArray(),
        YamlSequenceNode => throw new FormatException("expected at least one entry"),
        _ => [Text(node)],
    };

    private static string FullPath(YamlNode node, string baseDirectory) => FullPath(Text(node), baseDirectory);

    private static string FullPath(string path, string baseDirectory) =>
        Path.GetFullPath(Path.Combine(baseDirectory, path));

    private static T Enum<T>(YamlNode node)
        where T : struct, Enum
    {
        string text = Scalar(node);
        return System.Enum.TryParse(text, ignoreCase: true, out T value) && !char.IsDigit(text[0])
            ? value
            : throw new FormatException(
                $"expected one of {string.Join(", ", System.Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}" +
                $", got '{text}'");
    }

    private static string OneOf(YamlNode node, params string[] choices)
    {
        string text = Scalar(node);
        return choices.Contains(text, StringComparer.Ordinal)
            ? text
            : throw new FormatException($"expected one of {string.Join(", ", choices)}, got '{text}'");
    }

    private static bool Bool(YamlNode node) => Scalar(node) switch
    {
        "true" or "True" or "yes" or "on" => true,
        "false" or "False" or "no" or "off" => false,
        string other => throw new FormatException($"expected true or false, got '{other}'"),
    };

    private static int Int32(YamlNode node, int min, int max) => (int)Int64(node, min, max);

    private static long Int64(YamlNode node, long min, long max)
    {
        string text = Scalar(node).Replace("_", "", StringComparison.Ordinal);
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
        {
            throw new FormatException($"expected a whole number, got '{Scalar(node)}'");
        }
        return value >= min && value <= max
            ? value
            : throw new FormatException($"expected a whole number from {min} to {max}, got {value}");
    }

    private static double Double(YamlNode node, double min, double max)
    {
        string text = Scalar(node);
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
            || !double.IsFinite(value))
        {
            throw new FormatException($"expected a number, got '{text}'");
        }
        return value >= min && value <= max
            ? value
            : throw new FormatException(
                $"expected a number from {min.ToString(CultureInfo.InvariantCulture)} to " +
                $"{max.ToString(CultureInfo.InvariantCulture)}, got {text}");
    }

    private static YamlSequenceNode List(YamlNode node, int count) =>
        node is YamlSequenceNode list && list.Children.Count == count
            ? list
            : throw new FormatException($"expected a list of {count} numbers, such as [{string.Join(", ",
                Enumerable.Repeat("x", count))}]");

    private static (double Low, double High) Pair(YamlNode node, double min, double max)
    {
        YamlSequenceNode list = List(node, 2);
        return (Double(list.Children[0], min, max), Double(list.Children[1], min, max));
    }

    private static (double Low, double High) Range(YamlNode node, double min, double max)
    {
        (double low, double high) = Pair(node, min, max);
        return low > 0 && low <= high
            ? (low, high)
            : throw new FormatException($"expected [low, high] with 0 < low <= high, got [{low}, {high}]");
    }

    private static float[] FloatTriple(YamlNode node, double min, double max) =>
        List(node, 3).Children.Select(n => (float)Double(n, min, max)).ToArray();

    private static int[] IntList(YamlNode node, int min, int max) =>
        node is YamlSequenceNode { Children.Count: > 0 } list
            ? list.Children.Select(n => Int32(n, min, max)).ToArray()
            : throw new FormatException("expected a non-empty list of whole numbers, such as [32, 64]");

    private static string Colour(YamlNode node)
    {
        string text = Scalar(node);
        bool valid = text.Length == 7 && text[0] == '#' && text[1..].All(char.IsAsciiHexDigit);
        return valid ? text.ToLowerInvariant() : throw new FormatException($"expected #RRGGBB, got '{text}'");
    }
}
