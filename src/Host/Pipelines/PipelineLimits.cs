namespace DataflowContrastive.Host.Pipelines;

/// <summary>
/// The ranges of pipeline keys that command-line options also set, so that an option is refused with the same
/// bounds as the key it stands for.
/// </summary>
public static class PipelineLimits
{
    /// <summary>Smallest <c>images.size</c>.</summary>
    public const int MinImageSize = 8;

    /// <summary>Largest <c>images.size</c>.</summary>
    public const int MaxImageSize = 4096;

    /// <summary>Smallest <c>model.context_length</c>.</summary>
    public const int MinContextLength = 4;

    /// <summary>Largest <c>model.context_length</c>.</summary>
    public const int MaxContextLength = 1024;

    /// <summary>Fewest <c>images.workers</c>.</summary>
    public const int MinWorkers = 1;

    /// <summary>Most <c>images.workers</c>.</summary>
    public const int MaxWorkers = 256;
}
