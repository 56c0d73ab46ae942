using DataflowContrastive.Ingest;
using Parquet;
using Parquet.Schema;

namespace DataflowContrastive.Tests.Ingest;

public sealed class ParquetNetShardTests : IDisposable
{
    private readonly string _folder = TestShards.NewFolder();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData(CompressionMethod.None)]
    [InlineData(CompressionMethod.Snappy)]
    [InlineData(CompressionMethod.Gzip)]
    [InlineData(CompressionMethod.Zstd)]
    [InlineData(CompressionMethod.Brotli)]
    [InlineData(CompressionMethod.Lz4Raw)]
    public async Task A_shard_written_by_Parquet_Net_reads_back_row_for_row_whatever_its_compression(
        CompressionMethod compression)
    {
        // 300 rows in two row groups; captions repeat every 7 rows, so the writer's dictionary encoding applies.
        var rows = Enumerable.Range(0, 300)
            .Select(i => (Image: i % 50 == 0 ? null : TestShards.Bytes(i, 10 + (i % 13)),
                Caption: i % 11 == 0 ? null : $"caption {i % 7} 猫", Key: $"k{i}"))
            .ToArray();
        string path = Path.Combine(_folder, $"{compression}.parquet");
        await WriteAsync(path, rows, new ParquetOptions
        {
            CompressionMethod = compression,
            DictionaryEncodingThreshold = 1.0,
        });

        var read = new List<RawSample>();
        await foreach (RawSample sample in new ShardReader(new IngestOptions()).ReadAsync(path, default))
        {
            read.Add(sample);
        }

        Assert.Equal(rows.Select(r => r.Key), read.Select(r => r.Key));
        Assert.Equal(rows.Select(r => r.Caption), read.Select(r => r.Caption));
        Assert.Equal(rows.Select(r => r.Image), read.Select(r => r.Image));
        Assert.Equal(Enumerable.Range(0, 300).Select(i => (long)i), read.Select(r => r.Row));
    }

    private static async Task WriteAsync(string path, (byte[]? Image, string? Caption, string Key)[] rows,
        ParquetOptions options)
    {
        var image = new DataField("jpg", typeof(byte[]), isNullable: true);
        var caption = new DataField("txt", typeof(string), isNullable: true);
        var key = new DataField("key", typeof(string), isNullable: false);
        await using FileStream stream = File.Create(path);
        await using ParquetWriter writer = await ParquetWriter.CreateAsync(
            new ParquetSchema(image, caption, key), stream, options, false, default);
        foreach (var group in rows.Chunk(200))
        {
            using ParquetRowGroupWriter rowGroup = writer.CreateRowGroup();
            await rowGroup.WriteAsync(image, group.Select(r => r.Image).ToArray(), null);
            await rowGroup.WriteAsync(caption, group.Select(r => r.Caption).ToArray(), null);
            await rowGroup.WriteAsync(key, group.Select(r => r.Key).ToArray(), null);
        }
    }
}
