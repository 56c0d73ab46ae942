using System.Text.Json;
using DataflowContrastive.Host.Export;

namespace DataflowContrastive.Host.Serving;

/// <summary>One input shard's published embeddings.</summary>
/// <param name="Source">The input shard's full path.</param>
/// <param name="ContentHash">The SHA-256 of the input shard's content when it was exported.</param>
/// <param name="Directory">The folder of its embedding shards, relative to the export directory.</param>
/// <param name="Rows">Rows exported, one per good sample of the input shard.</param>
/// <param name="Step">The training step of the model that embedded them.</param>
/// <param name="Files">The embedding files, relative to the export directory; that folder's manifest.json holds
/// their SHA-256.</param>
/// <param name="Published">When the entry was published.</param>
public sealed record IndexEntry(string Source, string ContentHash, string Directory, long Rows, int Step,
    IReadOnlyList<string> Files, DateTimeOffset Published);

/// <summary>
/// <c>index.json</c> of a served pipeline's export directory: every input shard whose embeddings are published, in
/// the order they were published. Downstream jobs poll it to find new embedding shards. It is replaced atomically
/// (written under a temporary name, flushed to disk, renamed), so a reader sees the old list or the new one, never a
/// mix. An input shard has at most one entry: a shard exported again (after a crash, or with new content at the same
/// path) replaces its entry. The file has one writer, the worker that holds the shard's lease; two pipelines must
/// not share an export directory.
/// </summary>
public static class EmbeddingIndex
{
    /// <summary>The index's file name.</summary>
    public const string FileName = "index.json";

    /// <summary>Names this file's format and its version.</summary>
    public const string Format = "dataflowcontrastive-embedding-index/1";

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    private static readonly SemaphoreSlim Gate = new(1, 1);

    private sealed record IndexFile(string Format, IReadOnlyList<IndexEntry> Shards);

    /// <summary>The entries of the index in <paramref name="exportDirectory"/>; none before the first.</summary>
    public static async Task<IReadOnlyList<IndexEntry>> ReadAsync(string exportDirectory,
        CancellationToken cancellationToken)
    {
        string path = Path.Combine(exportDirectory, FileName);
        if (!File.Exists(path))
        {
            return [];
        }
        IndexFile? file = JsonSerializer.Deserialize<IndexFile>(
            await File.ReadAllBytesAsync(path, cancellationToken), JsonOptions);
        return file?.Shards ?? [];
    }

    /// <summary>Publishes <paramref name="entry"/>, replacing any entry of the same source or content.</summary>
    public static async Task PublishAsync(string exportDirectory, IndexEntry entry,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await Gate.WaitAsync(cancellationToken);
        try
        {
            List<IndexEntry> entries = [.. await ReadAsync(exportDirectory, cancellationToken)];
            entries.RemoveAll(e => e.Source == entry.Source || e.Directory == entry.Directory);
            entries.Add(entry);
            await AtomicFile.WriteAsync(Path.Combine(exportDirectory, FileName), stream =>
                JsonSerializer.SerializeAsync(stream, new IndexFile(Format, entries), JsonOptions, cancellationToken),
                cancellationToken);
        }
        finally
        {
            Gate.Release();
        }
    }
}
