using Parquet;
using Parquet.Schema;

namespace DataflowContrastive.Ingest;

/// <summary>How <see cref="ShardWriter"/> cuts its output.</summary>
public sealed class ShardWriterOptions
{
    /// <summary>Rows in each shard; the last shard holds the rest. Default 1000.</summary>
    public int RowsPerShard { get; init; } = 1000;

    /// <summary>Rows in each row group of a shard. Default 100.</summary>
    public int RowGroupSize { get; init; } = 100;

    /// <summary>
    /// Write the label column in every shard, null where an item has none. Default false: the column is written when
    /// the first row group holds a label.
    /// </summary>
    public bool WriteLabels { get; init; }

    /// <summary>
    /// Shards are named <c>{Prefix}-{index:D5}.parquet</c>, the index counting from 0. Default "shard".
    /// </summary>
    public string Prefix { get; init; } = "shard";

    /// <summary>Throws <see cref="ArgumentException"/> naming the first property whose value cannot work.</summary>
    public void Validate()
    {
        if (RowsPerShard < 1)
        {
            throw new ArgumentException($"RowsPerShard must be at least 1, was {RowsPerShard}.", nameof(RowsPerShard));
        }
        if (RowGroupSize < 1)
        {
            throw new ArgumentException($"RowGroupSize must be at least 1, was {RowGroupSize}.", nameof(RowGroupSize));
        }
        if (string.IsNullOrWhiteSpace(Prefix) || Prefix.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0
            || Prefix.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Prefix must be a plain file name, was '{Prefix}'.", nameof(Prefix));
        }
    }
}

/// <summary>
/// Writes <see cref="PackItem"/>s as Parquet shards in the Hugging Face image layout: a struct column
/// <c>image</c> {bytes: binary, path: string}, string <c>caption</c>, string <c>label</c> (only when the first
/// row group has a label), string <c>key</c>, and int <c>width</c> and <c>height</c>. Each shard is written to
/// <c>.tmp</c> beside its final name and renamed when complete.
/// </summary>
public sealed class ShardWriter
{
    private static readonly DataField ImageBytes = new("bytes", typeof(byte[]), isNullable: true);
    private static readonly DataField ImagePath = new("path", typeof(string), isNullable: true);
    private static readonly DataField Caption = new("caption", typeof(string), isNullable: true);
    private static readonly DataField Label = new("label", typeof(string), isNullable: true);
    private static readonly DataField Key = new("key", typeof(string), isNullable: false);
    private static readonly DataField Width = new("width", typeof(int), isNullable: false);
    private static readonly DataField Height = new("height", typeof(int), isNullable: false);

    private readonly string _outputDirectory;
    private readonly ShardWriterOptions _options;
    private readonly Func<byte[], (int Width, int Height)> _measure;

    /// <summary>
    /// Creates a writer into <paramref name="outputDirectory"/> (created if missing). <paramref name="measure"/>
    /// returns an image's width and height from its encoded bytes; it may throw for bytes that are no image.
    /// </summary>
    public ShardWriter(string outputDirectory, ShardWriterOptions options,
        Func<byte[], (int Width, int Height)> measure)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outputDirectory);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(measure);
        options.Validate();
        _outputDirectory = Path.GetFullPath(outputDirectory);
        _options = options;
        _measure = measure;
    }

    private int FirstGroupSize => Math.Min(_options.RowGroupSize, _options.RowsPerShard);

    /// <summary>Writes all <paramref name="items"/> and returns the full paths of the shards, in order.</summary>
    public async Task<IReadOnlyList<string>> WriteAsync(IEnumerable<PackItem> items, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(items);
        Directory.CreateDirectory(_outputDirectory);
        var shards = new List<string>();
        bool? withLabel = null;

        using IEnumerator<PackItem> source = items.GetEnumerator();
        List<PackItem> group = Take(source, FirstGroupSize);
        while (group.Count > 0)
        {
            withLabel ??= _options.WriteLabels || group.Any(item => item.Label is not null);
            string path = Path.Combine(_outputDirectory, $"{_options.Prefix}-{shards.Count:D5}.parquet");
            group = await WriteShardAsync(path, group, source, withLabel.Value, ct);
            shards.Add(path);
        }
        return shards;
    }

    // Writes one shard starting with the already taken first row group; returns the next shard's first group.
    private async Task<List<PackItem>> WriteShardAsync(string path, List<PackItem> group,
        IEnumerator<PackItem> source, bool withLabel, CancellationToken ct)
    {
        string temporary = path + ".tmp";
        ParquetSchema schema = withLabel
            ? new ParquetSchema(new StructField("image", ImageBytes, ImagePath), Caption, Label, Key, Width, Height)
            : new ParquetSchema(new StructField("image", ImageBytes, ImagePath), Caption, Key, Width, Height);
        int rows = 0;
        try
        {
            await using FileStream stream = File.Create(temporary);
            await using ParquetWriter writer = await ParquetWriter.CreateAsync(schema, stream, null, false, ct);
            while (group.Count > 0)
            {
                await WriteRowGroupAsync(writer, group, withLabel, ct);
                rows += group.Count;
                group = Take(source, Math.Min(_options.RowGroupSize, _options.RowsPerShard - rows));
            }
        }
        catch
        {
            // A half-written shard must not stay behind to be taken for a shard later.
            File.Delete(temporary);
            throw;
        }
        File.Move(temporary, path, overwrite: true);
        return rows == _options.RowsPerShard ? Take(source, FirstGroupSize) : group;
    }

    private async Task WriteRowGroupAsync(ParquetWriter writer, List<PackItem> items, bool withLabel,
        CancellationToken ct)
    {
        (int Width, int Height)[] sizes = [.. items.Select(Measure)];
        using ParquetRowGroupWriter group = writer.CreateRowGroup();
        await group.WriteAsync(ImageBytes, items.Select(i => i.Image).ToArray(), null);
        await group.WriteAsync(ImagePath, items.Select(i => i.Path).ToArray(), null);
        await group.WriteAsync(Caption, items.Select(i => i.Caption).ToArray(), null);
        if (withLabel)
        {
            await group.WriteAsync(Label, items.Select(i => i.Label).ToArray(), null);
        }
        await group.WriteAsync(Key, items.Select(i => i.Key).ToArray(), null);
        await group.WriteAsync<int>(Width, sizes.Select(s => s.Width).ToArray().AsMemory(), null, null, ct);
        await group.WriteAsync<int>(Height, sizes.Select(s => s.Height).ToArray().AsMemory(), null, null, ct);
        group.CompleteValidate();
    }

    private (int Width, int Height) Measure(PackItem item)
    {
        try
        {
            return _measure(item.Image);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new InvalidDataException($"The image of '{item.Key}' ({item.Path}) cannot be measured: {e.Message}",
                e);
        }
    }

    private static List<PackItem> Take(IEnumerator<PackItem> source, int count)
    {
        var taken = new List<PackItem>(Math.Max(count, 0));
        while (taken.Count < count && source.MoveNext())
        {
            taken.Add(source.Current);
        }
        return taken;
    }
}
