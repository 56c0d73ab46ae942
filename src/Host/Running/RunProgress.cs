using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DataflowContrastive.Host.Pipelines;

namespace DataflowContrastive.Host.Running;

/// <summary>
/// Where a run stands, saved with every checkpoint so that a resumed run continues as if it had never stopped: the
/// position in the sample order, a digest of every batch trained so far, and a fingerprint of the data and of the
/// settings that decide what comes next.
/// </summary>
public sealed record RunProgress
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    /// <summary>The epoch of the next sample to train on.</summary>
    public int Epoch { get; init; }

    /// <summary>The index, within <see cref="Epoch"/>'s order, of the next sample not yet consumed.</summary>
    public long NextIndex { get; init; }

    public long SamplesTrained { get; init; }

    /// <summary>
    /// Indices of <see cref="Epoch"/> below <see cref="NextIndex"/> that were read but not yet trained on: samples
    /// waiting in a class-balanced batcher. A resumed run reads them again. Empty in the other modes.
    /// </summary>
    public IReadOnlyList<long> Pending { get; init; } = [];

    /// <summary>A chained SHA-256 over the keys of every batch trained, in order: equal digests, equal batches.
    /// </summary>
    public string BatchKeysDigest { get; init; } = "";

    /// <summary>What the run was made from; see <see cref="RunFingerprint"/>.</summary>
    public IReadOnlyDictionary<string, string> Fingerprint { get; init; } = new Dictionary<string, string>();

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static RunProgress FromJson(string json) =>
        JsonSerializer.Deserialize<RunProgress>(json, JsonOptions)
        ?? throw new JsonException("the progress record is empty");

    /// <summary>The digest after one more batch with these keys.</summary>
    public static string ChainDigest(string previous, IEnumerable<string> keys)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(keys);
        byte[] text = Encoding.UTF8.GetBytes(previous + "\n" + string.Join('\n', keys));
        return Convert.ToHexStringLower(SHA256.HashData(text));
    }
}

/// <summary>
/// The fingerprint of a run: the shards' identities and every setting that decides the sample order, the
/// augmentations or the training. Settings that only say where to write, how often to log, how many threads to use
/// or how long to train are left out, so they may change between a run and its resumption.
/// </summary>
public static class RunFingerprint
{
    private const int TailBytes = 64 * 1024;

    // The run's length may change too: a resumed run then follows the schedule of its new length.
    private static readonly string[] FreeToChange =
    [
        "SourceFile", "Name", "OutputDirectory", "Source.Shards", "Source.Retries", "Source.RetryDelay",
        "Images.Workers", "Train.Device", "Train.LogEvery", "Train.Steps", "Train.Epochs", "Train.MaxSkippedSteps",
        "Train.MaxMinutes",
        "Checkpoint", "Export", "Eval", "Serve",
    ];

    // The properties whose key is not their snake-cased path; a test checks every fingerprint path against the keys.
    private static readonly Dictionary<string, string> KeysNamedOtherwise = new(StringComparer.Ordinal)
    {
        ["Source.ImageColumn"] = "source.columns.image",
        ["Source.CaptionColumn"] = "source.columns.caption",
        ["Source.LabelColumn"] = "source.columns.label",
        ["Source.KeyColumn"] = "source.columns.key",
        ["Images.ScaleMin"] = "images.scale[0]",
        ["Images.ScaleMax"] = "images.scale[1]",
        ["Images.RatioMin"] = "images.ratio[0]",
        ["Images.RatioMax"] = "images.ratio[1]",
        ["Images.FlipProbability"] = "images.flip",
        ["Images.JitterProbability"] = "images.jitter.probability",
        ["Images.Brightness"] = "images.jitter.brightness",
        ["Images.Contrast"] = "images.jitter.contrast",
        ["Images.Saturation"] = "images.jitter.saturation",
        ["Images.Hue"] = "images.jitter.hue",
        ["Images.GrayscaleProbability"] = "images.grayscale",
        ["Images.BlurProbability"] = "images.blur.probability",
        ["Images.BlurSigmaMin"] = "images.blur.sigma[0]",
        ["Images.BlurSigmaMax"] = "images.blur.sigma[1]",
        ["Images.SolarizeProbability"] = "images.solarize.probability",
        ["Images.SolarizeThreshold"] = "images.solarize.threshold",
        ["Optimizer.Beta1"] = "optimizer.betas[0]",
        ["Optimizer.Beta2"] = "optimizer.betas[1]",
    };

    /// <summary>Computes the fingerprint of <paramref name="definition"/> over <paramref name="shards"/>.</summary>
    public static IReadOnlyDictionary<string, string> Compute(PipelineDefinition definition,
        IReadOnlyList<string> shards)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(shards);
        var fingerprint = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["shards"] = ShardsDigest(shards),
        };
        Flatten(JsonSerializer.SerializeToNode(definition), "", fingerprint);

        // The held-out share decides which rows train; left out at 0, so checkpoints from before the key existed
        // still match. The other evaluation keys change nothing about training.
        if (definition.Eval.Holdout > 0)
        {
            fingerprint["Eval.Holdout"] = definition.Eval.Holdout.ToString("R", CultureInfo.InvariantCulture);
        }
        return fingerprint;
    }

    /// <summary>What differs between a checkpoint's fingerprint and the current one, one line each.</summary>
    public static IReadOnlyList<string> Differences(IReadOnlyDictionary<string, string> saved,
        IReadOnlyDictionary<string, string> current)
    {
        ArgumentNullException.ThrowIfNull(saved);
        ArgumentNullException.ThrowIfNull(current);
        return saved.Keys.Union(current.Keys).Order(StringComparer.Ordinal)
            .Where(key => saved.GetValueOrDefault(key) != current.GetValueOrDefault(key))
            .Select(key => key == "shards"
                ? "the shards (their names, sizes or contents) differ"
                : $"{PipelineKeyOf(key)} was {Shown(key, saved)}, is now {Shown(key, current)}")
            .ToArray();
    }

    /// <summary>
    /// The pipeline-file key that sets a fingerprint's property path (<c>Images.FlipProbability</c> ->
    /// <c>images.flip</c>); a key that sets a range or pair names the part (<c>images.scale[0]</c>).
    /// </summary>
    public static string PipelineKeyOf(string propertyPath)
    {
        ArgumentNullException.ThrowIfNull(propertyPath);
        return KeysNamedOtherwise.TryGetValue(propertyPath, out string? key) ? key : SnakeCase(propertyPath);
    }

    // Null is the key's default, which is often the recipe's; a value absent from a fingerprint is the default too,
    // since a fingerprint leaves out a key that was added later, or that is at the value older runs had.
    private static string Shown(string path, IReadOnlyDictionary<string, string> fingerprint)
    {
        string? value = fingerprint.GetValueOrDefault(path);
        if (value is not (null or "null"))
        {
            return value;
        }
        string key = PipelineKeyOf(path).Split('[')[0];
        string? byDefault = PipelineKeys.All.FirstOrDefault(k => k.Path == key)?.Default;
        return byDefault == "recipe's" ? "the recipe default" : $"the default ({byDefault ?? "unset"})";
    }

    /// <summary>
    /// Each shard by name, size and a hash of its tail, which holds the Parquet footer: cheap, and it changes with the
    /// content. A dataset moved to another folder keeps its digest.
    /// </summary>
    public static string ShardsDigest(IReadOnlyList<string> shards)
    {
        ArgumentNullException.ThrowIfNull(shards);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var tail = new byte[TailBytes];
        foreach (string shard in shards)
        {
            using FileStream stream = File.OpenRead(shard);
            int length = (int)Math.Min(stream.Length, TailBytes);
            stream.Seek(-length, SeekOrigin.End);
            stream.ReadExactly(tail, 0, length);
            hash.AppendData(Encoding.UTF8.GetBytes($"{Path.GetFileName(shard)}\n{stream.Length}\n"));
            hash.AppendData(tail, 0, length);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    // Images.MaxPixels -> images.max_pixels: the settings' names as a pipeline file spells most keys.
    private static string SnakeCase(string path) => string.Join('.', path.Split('.').Select(part =>
        JsonNamingPolicy.SnakeCaseLower.ConvertName(part)));

    private static void Flatten(JsonNode? node, string path, IDictionary<string, string> into)
    {
        if (FreeToChange.Any(free => path == free || path.StartsWith(free + ".", StringComparison.Ordinal)))
        {
            return;
        }
        if (node is JsonObject obj)
        {
            foreach ((string name, JsonNode? child) in obj)
            {
                Flatten(child, path.Length == 0 ? name : $"{path}.{name}", into);
            }
            return;
        }
        into[path] = node?.ToJsonString() ?? "null";
    }
}
