using System.Globalization;
using DataflowContrastive.Ingest;

namespace DataflowContrastive.Host.Serving;

/// <summary>
/// One shard's rejections, read back from the rejects parts (<c>OUTPUT/rejects/part-*.parquet</c>) that every run and
/// worker of a pipeline adds to: the parts hold all shards' rejections, a shard's verdict needs its own.
/// </summary>
public static class ShardRejections
{
    /// <summary>
    /// Counts by reason code the rejections of <paramref name="shard"/> in the parts in <paramref name="directory"/>,
    /// each shard row once however many parts hold it. A shard replaced by new content at the same path shares its
    /// earlier content's rejections.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, long>> CountAsync(string directory, string shard,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentException.ThrowIfNullOrWhiteSpace(shard);
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        if (!Directory.Exists(directory))
        {
            return counts;
        }
        string path = Path.GetFullPath(shard);
        var seen = new HashSet<long?>();
        var reader = new ShardColumnReader(new IngestOptions());
        foreach (string part in Directory.GetFiles(directory, "part-*.parquet").Order(StringComparer.Ordinal))
        {
            await foreach (ColumnBatch batch in reader.ReadAsync(part, ["shard", "row", "code"], cancellationToken))
            {
                for (int i = 0; i < batch.RowCount; i++)
                {
                    if ((string?)batch["shard"][i] == path && seen.Add((long?)batch["row"][i]))
                    {
                        string code = batch["code"][i] as string ?? "unknown";
                        counts[code] = counts.GetValueOrDefault(code) + 1;
                    }
                }
            }
        }
        return counts;
    }

    /// <summary>The counts as a user reads them: <c>shard-columns 1, caption-missing 2</c>, or <c>none</c>.</summary>
    public static string Format(IReadOnlyDictionary<string, long> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        return counts.Count == 0
            ? "none"
            : string.Join(", ", counts.Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Key} {c.Value}")));
    }
}
