namespace DataflowContrastive.Host.Ledger;

/// <summary>What identifies one version of a shard file.</summary>
/// <param name="Path">The shard's path, as the scan names it.</param>
/// <param name="Size">The file's length in bytes.</param>
/// <param name="Modified">The file's last write time.</param>
/// <param name="ContentHash">Lowercase hex SHA-256 of the whole file.</param>
public sealed record ShardFingerprint(string Path, long Size, DateTimeOffset Modified, string ContentHash);
