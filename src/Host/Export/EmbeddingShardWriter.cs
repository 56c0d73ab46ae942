using System.Globalization;
using System.Text.Json.Serialization;
using Parquet.Serialization;

namespace DataflowContrastive.Host.Export;

/// <summary>One exported sample: its key and caption, and both embeddings.</summary>
public sealed class EmbeddingRow
{
    [JsonPropertyName("key")]
    public string Key { get; set; } = "";

    [JsonPropertyName("caption")]
    public string? Caption { get; set; }

    [JsonPropertyName("image_embedding")]
    public float[] ImageEmbedding { get; set; } = [];

    [JsonPropertyName("text_embedding")]
    public float[] TextEmbedding { get; set; } = [];

    [JsonPropertyName("step")]
    public long Step { get; set; }
}

/// <summary>
/// Writes embedding rows into Parquet shards of a fixed number of rows, <c>embeddings-00000.parquet</c> onwards.
/// Each shard is written under a temporary name and renamed when complete, so a reader never sees half a shard.
/// The model's step is also stored in each file's key-value metadata.
/// </summary>
public sealed class EmbeddingShardWriter : IAsyncDisposable
{
    private readonly string _directory;
    private readonly int _rowsPerShard;
    private readonly long _step;
    private readonly List<EmbeddingRow> _pending = [];
    private readonly List<string> _written = [];

    public EmbeddingShardWriter(string directory, int rowsPerShard, long step)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentOutOfRangeException.ThrowIfLessThan(rowsPerShard, 1);
        _directory = directory;
        _rowsPerShard = rowsPerShard;
        _step = step;
        Directory.CreateDirectory(directory);
    }

    /// <summary>The shards written so far, in order.</summary>
    public IReadOnlyList<string> Shards => _written;

    /// <summary>Rows written to complete shards so far.</summary>
    public long RowsWritten { get; private set; }

    public async ValueTask AppendAsync(EmbeddingRow row, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(row);
        row.Step = _step;
        _pending.Add(row);
        if (_pending.Count == _rowsPerShard)
        {
            await FlushAsync(cancellationToken);
        }
    }

    /// <summary>Writes the rows still pending as a last, shorter shard.</summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_pending.Count == 0)
        {
            return;
        }
        string path = Path.Combine(_directory, $"embeddings-{_written.Count:D5}.parquet");
        string temporary = path + ".tmp";
        var metadata = new Dictionary<string, string>
        {
            ["dataflowcontrastive.step"] = _step.ToString(CultureInfo.InvariantCulture),
        };
        await using (FileStream stream = File.Create(temporary))
        {
            await ParquetSerializer.SerializeAsync(_pending, stream, options: null, metadata, cancellationToken);
            await stream.FlushAsync(cancellationToken);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);

        _written.Add(path);
        RowsWritten += _pending.Count;
        _pending.Clear();
    }

    public ValueTask DisposeAsync() => FlushAsync(CancellationToken.None);
}
