namespace DataflowContrastive.Train;

/// <summary>A checkpoint that was restored.</summary>
/// <param name="Path">Its directory.</param>
/// <param name="Step">Steps completed when it was written.</param>
/// <param name="Temperature">The inverse temperature min(exp(t), 100) when it was written.</param>
/// <param name="SettingsJson">The pipeline settings the caller stored with it, as given.</param>
public sealed record CheckpointInfo(string Path, int Step, double Temperature, string SettingsJson)
{
    /// <summary>The caller's record of where the run stood, as JSON, or null when none was saved.</summary>
    public string? ProgressJson { get; init; }
}
