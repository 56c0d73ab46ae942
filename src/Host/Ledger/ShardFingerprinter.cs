using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace DataflowContrastive.Host.Ledger;

/// <summary>
/// Computes <see cref="ShardFingerprint"/>s, hashing a file again only when its size or modification time changed
/// since this instance last hashed it. Safe to call from several threads.
/// </summary>
public sealed class ShardFingerprinter
{
    private const int BufferSize = 1 << 20;

    private readonly ConcurrentDictionary<string, ShardFingerprint> _known = new(StringComparer.Ordinal);

    private int _filesHashed;

    /// <summary>How many files this instance has read to hash (cache misses).</summary>
    public int FilesHashed => _filesHashed;

    /// <summary>
    /// The fingerprint of the file at <paramref name="path"/>; its <see cref="ShardFingerprint.Path"/> is the full
    /// path. A file that changes while it is hashed is not cached, so the next call hashes it again.
    /// </summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    public async Task<ShardFingerprint> FingerprintAsync(string path, CancellationToken cancellation)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = Path.GetFullPath(path);
        (long size, DateTimeOffset modified) = Stat(full);
        if (_known.TryGetValue(full, out ShardFingerprint? cached)
            && cached.Size == size && cached.Modified == modified)
        {
            return cached;
        }

        string hash = await HashAsync(full, cancellation);
        var fingerprint = new ShardFingerprint(full, size, modified, hash);
        if (Stat(full) == (size, modified))
        {
            _known[full] = fingerprint;
        }
        return fingerprint;
    }

    private static (long Size, DateTimeOffset Modified) Stat(string path)
    {
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            throw new FileNotFoundException($"Shard '{path}' does not exist.", path);
        }
        return (file.Length, new DateTimeOffset(file.LastWriteTimeUtc));
    }

    private async Task<string> HashAsync(string path, CancellationToken cancellation)
    {
        Interlocked.Increment(ref _filesHashed);
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite,
            BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        byte[] digest = await SHA256.HashDataAsync(stream, cancellation);
        return Convert.ToHexStringLower(digest);
    }
}
