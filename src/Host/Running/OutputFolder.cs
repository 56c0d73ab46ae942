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
    /// Creates the folders <paramref name="definition"/>'s job writes into (output, checkpoints for training, the
    /// export folder when it exports), then locks the output folder for this process. Dispose the result when the
    /// job has ended; a process that dies lets the lock go with it.
    /// </summary>
    /// <exception cref="PipelineRunException">A folder cannot be created (the message names its key, its path and
    /// why), or another process holds the lock.</exception>
    public static IDisposable Prepare(PipelineDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        Create("output", definition.OutputDirectory);
        if (definition.Kind == PipelineKind.Train)
        {
            Create("checkpoint.directory", definition.Checkpoint.Directory);
        }
        if (definition.Export.Enabled || definition.Kind == PipelineKind.Export)
        {
            Create("export.directory", definition.Export.Directory);
        }
        return Lock(definition.OutputDirectory);
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

    private static void Create(string key, string folder)
    {
        string full = Path.GetFullPath(folder);
        for (string? at = full; at is not null && !Directory.Exists(at); at = Path.GetDirectoryName(at))
        {
            if (File.Exists(at))
            {
                throw new PipelineRunException($"{key} {folder}: {at} is a file, not a folder");
            }
        }
        try
        {
            Directory.CreateDirectory(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PipelineRunException($"{key} {folder}: the folder cannot be created: {e.Message}", e);
        }
    }
}
