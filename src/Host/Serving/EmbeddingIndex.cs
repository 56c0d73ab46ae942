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
/// path) replaces its entry. Several workers may publish into one export directory: each publication reads, changes
/// and replaces the file while it holds an exclusive lock on <c>index.json.lock</c> beside it, so none loses another's
/// entry. The lock is the operating system's (<c>flock</c> on Linux), released when its holder exits or dies; on a
/// network file system it protects the index only where that file system honours locks across machines.
/// </summary>
public static class EmbeddingIndex
{
    /// <summary>The index's file name.</summary>
    public const string FileName = "index.json";

    /// <summary>Names this file's format and its version.</summary>
    public const string Format = "dataflowcontrastive-embedding-index/1";

    /// <summary>The lock file's name, beside the index.</summary>
    public const string LockFileName = FileName + ".lock";

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    /// <summary>How long a publication waits for the lock by default before it fails.</summary>
    public static readonly TimeSpan DefaultLockWait = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan LongestBackoff = TimeSpan.FromMilliseconds(200);

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

    /// <summary>
    /// Publishes <paramref name="entry"/>, replacing any entry of the same source or content; returns the entries it
    /// replaced.
    /// </summary>
    public static Task<IReadOnlyList<IndexEntry>> PublishAsync(string exportDirectory, IndexEntry entry,
        CancellationToken cancellationToken) =>
        PublishAsync(exportDirectory, entry, DefaultLockWait, cancellationToken);

    /// <summary>
    /// Publishes <paramref name="entry"/>, replacing any entry of the same source or content, under the index's lock;
    /// throws <see cref="TimeoutException"/> when another holds the lock for longer than <paramref name="lockWait"/>.
    /// Returns the entries it replaced, whose folders the caller may remove once no reader needs them.
    /// </summary>
    public static async Task<IReadOnlyList<IndexEntry>> PublishAsync(string exportDirectory, IndexEntry entry,
        TimeSpan lockWait, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(exportDirectory);
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentOutOfRangeException.ThrowIfLessThan(lockWait, TimeSpan.Zero);
        Directory.CreateDirectory(exportDirectory);

        await using FileStream held = await LockAsync(Path.Combine(exportDirectory, LockFileName), lockWait,
            cancellationToken);
        List<IndexEntry> entries = [.. await ReadAsync(exportDirectory, cancellationToken)];
        IndexEntry[] replaced = [.. entries.Where(e => e.Source == entry.Source || e.Directory == entry.Directory)];
        entries.RemoveAll(replaced.Contains);
        entries.Add(entry);
        await AtomicFile.WriteAsync(Path.Combine(exportDirectory, FileName), stream =>
            JsonSerializer.SerializeAsync(stream, new IndexFile(Format, entries), JsonOptions, cancellationToken),
            cancellationToken);
        return replaced;
    }

    // Opens the lock file with no sharing, which on Linux takes an exclusive flock on it. Another holder, in this
    // process or another, makes the open fail with a sharing violation; it is tried again after a growing, jittered
    // pause. The file itself is never deleted: deleting it would let two holders lock two different files.
    private static async Task<FileStream> LockAsync(string path, TimeSpan wait, CancellationToken cancellationToken)
    {
        long started = Environment.TickCount64;
        TimeSpan backoff = TimeSpan.FromMilliseconds(5);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException busy) when (File.Exists(path))
            {
                TimeSpan waited = TimeSpan.FromMilliseconds(Environment.TickCount64 - started);
                if (waited >= wait)
                {
                    throw new TimeoutException($"{path}: another worker has held the lock on the embedding index " +
                        $"for more than {wait.TotalSeconds:F1} s; nothing was published. A process stuck while " +
                        "publishing holds it until it exits.", busy);
                }
                await Task.Delay(backoff * (0.5 + Random.Shared.NextDouble()), cancellationToken);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, LongestBackoff.Ticks));
            }
        }
    }
}
