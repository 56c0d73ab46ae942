using System.Text.Json;
using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Host.Running;
using DataflowContrastive.Train;

namespace DataflowContrastive.Host.Export;

/// <summary>
/// The checkpoint an export pipeline embeds with: its step folder, its step, and the pipeline settings it was trained
/// with (<c>settings.json</c>), from which the model's shape and the image size and normalisation are taken.
/// </summary>
/// <param name="Folder">The <c>step-N</c> folder.</param>
/// <param name="Step">Training steps the model had taken.</param>
/// <param name="Settings">The training pipeline's settings.</param>
public sealed record ExportCheckpoint(string Folder, int Step, JsonElement Settings)
{
    /// <summary>The model's weights inside <see cref="Folder"/>.</summary>
    public string ModelFile => Path.Combine(Folder, "model.bin");

    /// <summary>
    /// Finds the checkpoint at <paramref name="path"/>: a step folder, or a checkpoint directory whose newest
    /// checkpoint is taken.
    /// </summary>
    /// <exception cref="PipelineRunException">There is no checkpoint there, or it cannot be read.</exception>
    public static ExportCheckpoint Resolve(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string folder = File.Exists(Path.Combine(path, "model.bin")) ? path : Newest(path);
        try
        {
            using JsonDocument state = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "state.json")));
            using JsonDocument settings = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "settings.json")));
            return new ExportCheckpoint(folder, state.RootElement.GetProperty("step").GetInt32(),
                settings.RootElement.Clone());
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or FormatException
            or InvalidOperationException)
        {
            throw new PipelineRunException($"Checkpoint {folder} is unreadable: {e.Message}", e);
        }
    }

    /// <summary>
    /// Sets the mode, the model's shape and the image size and normalisation from the checkpoint's settings.
    /// </summary>
    /// <exception cref="PipelineRunException">The settings lack a value the model needs.</exception>
    public void ApplyTo(PipelineDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        try
        {
            JsonElement model = Settings.GetProperty("Model");
            JsonElement images = Settings.GetProperty("Images");
            ModelSettings target = definition.Model;
            target.EmbedDim = model.GetProperty("EmbedDim").GetInt32();
            target.ImageWidths = [.. model.GetProperty("ImageWidths").EnumerateArray().Select(w => w.GetInt32())];
            target.TextWidth = model.GetProperty("TextWidth").GetInt32();
            target.TextLayers = model.GetProperty("TextLayers").GetInt32();
            target.TextHeads = model.GetProperty("TextHeads").GetInt32();
            target.ContextLength = model.GetProperty("ContextLength").GetInt32();
            definition.Images.Size = images.GetProperty("Size").GetInt32();
            // Checkpoints written before the image-only modes existed hold no mode: they are CLIP's.
            definition.Mode = Settings.TryGetProperty("Mode", out JsonElement mode)
                ? (ContrastiveMode)mode.GetInt32()
                : ContrastiveMode.Clip;
            definition.Images.Mean = [.. images.GetProperty("Mean").EnumerateArray().Select(v => v.GetSingle())];
            definition.Images.Std = [.. images.GetProperty("Std").EnumerateArray().Select(v => v.GetSingle())];
        }
        catch (Exception e) when (e is KeyNotFoundException or FormatException or InvalidOperationException)
        {
            throw new PipelineRunException(
                $"Checkpoint {Folder}: settings.json does not describe the model ({e.Message})", e);
        }
    }

    private static string Newest(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new PipelineRunException($"No checkpoint at {directory}: the folder does not exist.");
        }
        IReadOnlyList<string> checkpoints = new CheckpointStore(directory, keep: 1).List();
        return checkpoints.Count > 0
            ? checkpoints[^1]
            : throw new PipelineRunException(
                $"No checkpoint at {directory}: it holds no model.bin and no step-N folder.");
    }
}
