using System.Globalization;
using System.Text;
using System.Text.Json;

namespace DataflowContrastive.Train;

/// <summary>
/// Writes training checkpoints into one directory and restores the newest, keeping only the newest few.
/// </summary>
/// <remarks>
/// <para>
/// Each checkpoint is a directory <c>step-00000100/</c> holding <c>model.bin</c> (TorchSharp's module state),
/// <c>optimizer.bin</c> (AdamW's moments and step counts), <c>state.json</c> (steps done, steps skipped,
/// temperature) and <c>settings.json</c> (the caller's text, verbatim).
/// </para>
/// <para>
/// It is first written as <c>.tmp-step-00000100-…/</c>, every file flushed to disk, then renamed in one atomic
/// step; only names of the form <c>step-N</c> are ever read, so a crash while writing leaves a <c>.tmp-</c> directory
/// that is ignored and removed by the next save, never a half checkpoint. The directory is flushed after the rename,
/// so the new name itself survives a power cut. One writer per directory is assumed.
/// </para>
/// </remarks>
public sealed class CheckpointStore
{
    private const string Prefix = "step-";
    private const string TemporaryPrefix = ".tmp-";
    private const string ModelFile = "model.bin";
    private const string OptimizerFile = "optimizer.bin";
    private const string StateFile = "state.json";
    private const string SettingsFile = "settings.json";
    private const string ProgressFile = "progress.json";

    // Fault injection for crash tests: the process ends abruptly half-way through writing this step's checkpoint.
    private const string CrashVariable = "DATAFLOWCONTRASTIVE_CRASH_IN_CHECKPOINT";

    private readonly string _directory;
    private readonly int _keep;

    /// <summary>Creates a store over <paramref name="directory"/>, created if missing.</summary>
    /// <param name="directory">Where checkpoints live.</param>
    /// <param name="keep">How many of the newest checkpoints to keep; at least 1.</param>
    public CheckpointStore(string directory, int keep)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);
        _directory = Path.GetFullPath(directory);
        _keep = keep;
        Directory.CreateDirectory(_directory);
    }

    /// <summary>Writes a checkpoint of <paramref name="trainer"/> at its current step, then prunes old ones.</summary>
    /// <param name="trainer">The trainer whose model and optimiser are saved.</param>
    /// <param name="settingsJson">The pipeline's settings as JSON text, stored verbatim.</param>
    /// <param name="progressJson">Where the run stands (data position and the like), as JSON, stored verbatim.</param>
    /// <returns>The checkpoint's directory.</returns>
    public string Save(ContrastiveTrainer trainer, string settingsJson, string? progressJson = null)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        RequireJson(settingsJson);
        RemoveLeftovers();

        string name = Prefix + trainer.Step.ToString("D8", CultureInfo.InvariantCulture);
        string final = Path.Combine(_directory, name);
        string temporary = Path.Combine(_directory, $"{TemporaryPrefix}{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temporary);

        WriteDurably(Path.Combine(temporary, ModelFile), writer => trainer.Network.save(writer));
        CrashIfAsked(trainer.Step);
        WriteDurably(Path.Combine(temporary, OptimizerFile), trainer.Optimizer.save_state_dict);
        WriteDurably(Path.Combine(temporary, StateFile), writer => WriteState(writer.BaseStream, trainer));
        WriteDurably(
            Path.Combine(temporary, SettingsFile), writer => writer.Write(Encoding.UTF8.GetBytes(settingsJson)));
        if (progressJson is not null)
        {
            RequireJson(progressJson);
            WriteDurably(
                Path.Combine(temporary, ProgressFile), writer => writer.Write(Encoding.UTF8.GetBytes(progressJson)));
        }

        ReplaceWith(temporary, final);
        DirectorySync.Flush(_directory);
        Prune();
        return final;
    }

    /// <summary>Restores the newest checkpoint into <paramref name="trainer"/>, if there is one.</summary>
    /// <returns>What was restored, or <see langword="null"/> when the directory holds no checkpoint.</returns>
    /// <exception cref="InvalidDataException">
    /// The newest checkpoint cannot be read, or was written by a model of another shape. The trainer may then be
    /// partly restored: build a fresh one. Older checkpoints are not tried, since the atomic rename means a complete
    /// but unreadable checkpoint points at a wrong model or a damaged disk rather than at a crash.
    /// </exception>
    public CheckpointInfo? LoadLatest(ContrastiveTrainer trainer)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        IReadOnlyList<string> checkpoints = List();
        return checkpoints.Count == 0 ? null : Load(trainer, checkpoints[^1]);
    }

    /// <summary>
    /// True when <paramref name="directory"/> holds a complete checkpoint; the folder is not created.
    /// </summary>
    public static bool HasCheckpoint(string directory) =>
        Directory.Exists(directory) && Directory.EnumerateDirectories(directory, Prefix + "*")
            .Any(path => ParseStep(Path.GetFileName(path)) >= 0);

    /// <summary>The complete checkpoints' directories, oldest first.</summary>
    public IReadOnlyList<string> List() =>
        Directory.EnumerateDirectories(_directory, Prefix + "*")
            .Select(path => (Path: path, Step: ParseStep(Path.GetFileName(path))))
            .Where(entry => entry.Step >= 0)
            .OrderBy(entry => entry.Step)
            .Select(entry => entry.Path)
            .ToList();

    private static CheckpointInfo Load(ContrastiveTrainer trainer, string path)
    {
        try
        {
            using (FileStream model = File.OpenRead(Path.Combine(path, ModelFile)))
            {
                trainer.Network.load(model, strict: true);
            }
            using (FileStream optimizer = File.OpenRead(Path.Combine(path, OptimizerFile)))
            using (var reader = new BinaryReader(optimizer))
            {
                trainer.Optimizer.load_state_dict(reader);
            }
            using JsonDocument state = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(path, StateFile)));
            int step = state.RootElement.GetProperty("step").GetInt32();
            int skipped = state.RootElement.GetProperty("skipped_steps").GetInt32();
            double temperature = state.RootElement.GetProperty("temperature").GetDouble();
            string settings = File.ReadAllText(Path.Combine(path, SettingsFile));
            string progressPath = Path.Combine(path, ProgressFile);
            string? progress = File.Exists(progressPath) ? File.ReadAllText(progressPath) : null;

            trainer.Step = step;
            trainer.SkippedSteps = skipped;
            return new CheckpointInfo(path, step, temperature, settings) { ProgressJson = progress };
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or FormatException
            or ArgumentException or InvalidOperationException)
        {
            throw new InvalidDataException($"Checkpoint {path} is unreadable: {e.Message}", e);
        }
    }

    private static void WriteDurably(string path, Action<BinaryWriter> write)
    {
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            write(writer);
        }
        stream.Flush(flushToDisk: true);
    }

    private static void CrashIfAsked(int step)
    {
        if (Environment.GetEnvironmentVariable(CrashVariable) == step.ToString(CultureInfo.InvariantCulture))
        {
            Environment.FailFast($"{CrashVariable}={step}: ending the process in the middle of a checkpoint write");
        }
    }

    private static void WriteState(Stream stream, ContrastiveTrainer trainer)
    {
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteNumber("step", trainer.Step);
        json.WriteNumber("skipped_steps", trainer.SkippedSteps);
        json.WriteNumber("temperature", trainer.Temperature);
        json.WriteEndObject();
    }

    private static void RequireJson(string settingsJson)
    {
        ArgumentNullException.ThrowIfNull(settingsJson);
        try
        {
            using JsonDocument _ = JsonDocument.Parse(settingsJson);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"The settings are not JSON: {e.Message}", nameof(settingsJson), e);
        }
    }

    // The name's digits, or -1 for anything that is not a checkpoint name.
    private static int ParseStep(string name) =>
        name.StartsWith(Prefix, StringComparison.Ordinal)
        && int.TryParse(name.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int step)
            ? step
            : -1;

    private void ReplaceWith(string temporary, string final)
    {
        // Saving the same step twice replaces the older copy; it is moved aside first so the rename stays atomic.
        string? displaced = null;
        if (Directory.Exists(final))
        {
            displaced = Path.Combine(_directory, $"{TemporaryPrefix}old-{Guid.NewGuid():N}");
            Directory.Move(final, displaced);
        }
        Directory.Move(temporary, final);
        if (displaced is not null)
        {
            Directory.Delete(displaced, recursive: true);
        }
    }

    private void Prune()
    {
        IReadOnlyList<string> checkpoints = List();
        for (int i = 0; i < checkpoints.Count - _keep; i++)
        {
            Directory.Delete(checkpoints[i], recursive: true);
        }
    }

    // Directories a crashed save left behind.
    private void RemoveLeftovers()
    {
        foreach (string leftover in Directory.EnumerateDirectories(_directory, TemporaryPrefix + "*"))
        {
            Directory.Delete(leftover, recursive: true);
        }
    }
}
