using DataflowContrastive.Host.Pipelines;

namespace DataflowContrastive.Host.Running;

/// <summary>
/// What <c>dfc run</c> and <c>dfc export</c> make sure of before any work: that every folder the job will write can
/// be created, and that no other dfc process writes into the same output folder meanwhile. <c>dfc serve</c> takes no
/// such lock: its workers of one pipeline share the output folder on purpose, and its ledger keeps them apart.
/// </summary>
public static class OutputFolder
{
    /// <summary>The lock file's name, in the output folder.</summary>
    public const string LockFileName = ".dfc.lock";

    /// <summary>
    /// Makes sure the folders <paramref name="definition"/>'s job writes into can be created (output, checkpoints
    /// for training, the export folder when it exports), creating the output folder, then locks the output folder
    /// for this process. Dispose the result when the job has ended; a process that dies lets the lock go with it.
    /// </summary>
    /// <exception cref="PipelineRunException">A folder cannot be created (the message names its key, its path and
    /// why), or another process holds the lock.</exception>
    public static IDisposable Prepare(PipelineDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        Create("output", definition.OutputDirectory);
        // Locked first, so the folders tried below are not another job's, made a moment ago and still empty.
        IDisposable held = Lock(definition.OutputDirectory);
        try
        {
            if (definition.Kind == PipelineKind.Train)
            {
                Create("checkpoint.directory", definition.Checkpoint.Directory, keep: false);
            }
            if (definition.Export.Enabled || definition.Kind == PipelineKind.Export)
            {
                Create("export.directory", definition.Export.Directory, keep: false);
            }
            return held;
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Takes an exclusive lock on <see cref="LockFileName"/> in <paramref name="folder"/> (an existing folder), or
    /// throws <see cref="PipelineRunException"/> at once when another holds it, in this process or another.
    /// </summary>
    public static IDisposable Lock(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        string path = Path.Combine(folder, LockFileName);
        try
        {
            // No sharing takes an flock on Linux; the kernel lets it go when the process ends, however it ends. The
            // file is left in place: deleting it would let two processes lock two different files.
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException busy) when (File.Exists(path))
        {
            throw new PipelineRunException(
                $"{Path.GetFullPath(folder)}: another dfc process is using this output folder (it holds the lock " +
                $"on {LockFileName}); wait for it to end, or give this job another output folder", busy);
        }
    }

    // Creates the folder, making sure of it as the job would find out only later, and removes again the folders it
    // had to create when the job is to create them itself (a job refused later leaves no empty folders behind).
    private static void Create(string key, string folder, bool keep = true)
    {
        string full = Path.GetFullPath(folder);
        string? existing = full;
        for (; existing is not null && !Directory.Exists(existing); existing = Path.GetDirectoryName(existing))
        {
            if (File.Exists(existing))
            {
                throw new PipelineRunException($"{key} {folder}: {existing} is a file, not a folder");
            }
        }
        try
        {
            Directory.CreateDirectory(full);
            for (string? made = full; !keep && made is not null && made != existing; made = Path.GetDirectoryName(made))
            {
                Directory.Delete(made);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PipelineRunException($"{key} {folder}: the folder cannot be created: {e.Message}", e);
        }
    }
}
