using System.Collections.Concurrent;
using System.Security.Cryptography;
using DataflowContrastive.Host.Ledger;

namespace DataflowContrastive.Host.Serving;

/// <summary>
/// Fingerprints shard files for the ledger: size, modification time and the SHA-256 of the whole file. A file whose
/// path, size and modification time are unchanged since it was last hashed keeps its hash unread, so a rescan of a
/// large, quiet folder costs only a directory listing.
/// </summary>
public sealed class ShardHasher
{
    private readonly ConcurrentDictionary<string, ShardFingerprint> _known = new(StringComparer.Ordinal);

    /// <summary>The fingerprint of the file at <paramref name="path"/> (a full path).</summary>
    public async Task<ShardFingerprint> FingerprintAsync(string path, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var file = new FileInfo(path);
        long size = file.Length;
        DateTimeOffset modified = file.LastWriteTimeUtc;
        if (_known.TryGetValue(path, out ShardFingerprint? known) && known.Size == size && known.Modified == modified)
        {
            return known;
        }

        await using FileStream stream = File.OpenRead(path);
        string hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
        var fingerprint = new ShardFingerprint(path, size, modified, hash);
        _known[path] = fingerprint;
        return fingerprint;
    }
}
