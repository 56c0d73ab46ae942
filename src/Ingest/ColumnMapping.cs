namespace DataflowContrastive.Ingest;

/// <summary>
/// Names the columns of a shard. A null property means "detect": see <see cref="ShardColumns"/> for the rules.
/// </summary>
public sealed class ColumnMapping
{
    /// <summary>
    /// The image column: a binary column, or a struct holding a binary <c>bytes</c> field (the Hugging Face
    /// image layout). Null detects it.
    /// </summary>
    public string? Image { get; init; }

    /// <summary>The caption column, a string column. Null detects it.</summary>
    public string? Caption { get; init; }

    /// <summary>The label column, integer or string. Null detects it.</summary>
    public string? Label { get; init; }

    /// <summary>The key column. Null detects it; without one the key is <c>"{shard file name}:{row}"</c>.</summary>
    public string? Key { get; init; }
}
