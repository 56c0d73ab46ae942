namespace DataflowContrastive.Host.Pipelines;

/// <summary>One thing wrong with a pipeline file, at the line and column where it stands.</summary>
/// <param name="File">The pipeline file.</param>
/// <param name="Line">1-based line, or 0 when the problem is a key that is missing altogether.</param>
/// <param name="Column">1-based column, or 0 with <paramref name="Line"/>.</param>
/// <param name="Key">The key in dotted form, such as <c>batch.size</c>.</param>
/// <param name="Reason">What is wrong, and what would be right.</param>
public sealed record PipelineFileError(string File, int Line, int Column, string Key, string Reason)
{
    public override string ToString() => (Line > 0, Key.Length > 0) switch
    {
        (true, true) => $"{File}:{Line}:{Column}: '{Key}': {Reason}",
        (true, false) => $"{File}:{Line}:{Column}: {Reason}",
        (false, true) => $"{File}: '{Key}': {Reason}",
        (false, false) => $"{File}: {Reason}",
    };
}

/// <summary>A pipeline file that cannot be run, with every problem found in it; thrown before any work starts.
/// </summary>
public sealed class PipelineFileException : Exception
{
    public PipelineFileException(IReadOnlyList<PipelineFileError> errors)
        : base(Describe(errors))
    {
        Errors = errors;
    }

    public PipelineFileException()
        : this([])
    {
    }

    public PipelineFileException(string message)
        : base(message)
    {
        Errors = [];
    }

    public PipelineFileException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [];
    }

    public IReadOnlyList<PipelineFileError> Errors { get; } = [];

    private static string Describe(IReadOnlyList<PipelineFileError> errors) =>
        errors.Count == 1
            ? $"Pipeline file refused: {errors[0]}"
            : $"Pipeline file refused, {errors.Count} problems:\n  " + string.Join("\n  ", errors);
}
