using Parquet;
using Parquet.Schema;

namespace DataflowContrastive.Tests.Ingest;

/// <summary>Writes small Parquet shards for tests with Parquet.Net directly, independent of our writers.</summary>
internal static class TestShards
{
    /// <summary>A fresh empty folder under the system temp folder.</summary>
    public static string NewFolder()
    {
        string path = Path.Combine(Path.GetTempPath(), "dfc-ingest-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>A flat shard: binary image, string caption, int label, string key.</summary>
    public static async Task WriteFlatAsync(string path, IReadOnlyList<(byte[]? Image, string? Caption, int? Label,
        string Key)[]> rowGroups)
    {
        var image = new DataField("image", typeof(byte[]), isNullable: true);
        var caption = new DataField("caption", typeof(string), isNullable: true);
        var label = new DataField("label", typeof(int), isNullable: true);
        var key = new DataField("key", typeof(string), isNullable: false);
        await using FileStream stream = File.Create(path);
        await using ParquetWriter writer = await ParquetWriter.CreateAsync(
            new ParquetSchema(image, caption, label, key), stream, null, false, default);
        foreach (var rows in rowGroups)
        {
            using ParquetRowGroupWriter group = writer.CreateRowGroup();
            await group.WriteAsync(image, rows.Select(r => r.Image).ToArray(), null);
            await group.WriteAsync(caption, rows.Select(r => r.Caption).ToArray(), null);
            await group.WriteAsync<int>(label, rows.Select(r => r.Label).ToArray().AsMemory(), null, null, default);
            await group.WriteAsync(key, rows.Select(r => r.Key).ToArray(), null);
        }
    }

    /// <summary>The Hugging Face image layout: struct <c>image</c> {bytes, path} and string <c>text</c>.</summary>
    public static async Task WriteHuggingFaceAsync(string path, (byte[] Bytes, string Path, string Text)[] rows)
    {
        var bytes = new DataField("bytes", typeof(byte[]), isNullable: true);
        var file = new DataField("path", typeof(string), isNullable: true);
        var text = new DataField("text", typeof(string), isNullable: true);
        var schema = new ParquetSchema(new StructField("image", bytes, file), text);
        await using FileStream stream = File.Create(path);
        await using ParquetWriter writer = await ParquetWriter.CreateAsync(schema, stream, null, false, default);
        using ParquetRowGroupWriter group = writer.CreateRowGroup();
        await group.WriteAsync(bytes, rows.Select(r => r.Bytes).ToArray(), null);
        await group.WriteAsync(file, rows.Select(r => r.Path).ToArray(), null);
        await group.WriteAsync(text, rows.Select(r => r.Text).ToArray(), null);
    }

    /// <summary>Bytes that look like nothing in particular but are easy to tell apart.</summary>
    public static byte[] Bytes(int seed, int length) =>
        [.. Enumerable.Range(0, length).Select(i => (byte)(seed * 31 + i * 7))];
}
