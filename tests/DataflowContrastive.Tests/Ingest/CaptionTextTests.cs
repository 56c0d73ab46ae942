using System.Text;
using DataflowContrastive.Ingest;
using Parquet;
using Parquet.Schema;

namespace DataflowContrastive.Tests.Ingest;

public sealed class CaptionTextTests : IDisposable
{
    // Written as a valid placeholder, then the two letters ZZ are overwritten in the file by bytes FF 41: FF can
    // never occur in UTF-8, so a decoder must replace it and keep the A.
    internal const string Placeholder = "bad:ZZ|";
    private const string Replaced = "bad:\uFFFDA|";

    private readonly string _folder = TestShards.NewFolder();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Invalid_utf8_in_a_caption_is_replaced_and_flagged_on_its_row_only()
    {
        string path = await WriteCaptionsAsync("a cat", Placeholder, "a dog");

        List<RawSample> rows = await ReadAsync(path);

        Assert.Equal(["a cat", Replaced, "a dog"], rows.Select(r => r.Caption));
        Assert.Equal([false, true, false], rows.Select(r => r.CaptionHadInvalidUtf8));
    }

    [Fact]
    public async Task A_replacement_character_that_the_file_really_holds_is_not_flagged()
    {
        string path = await WriteCaptionsAsync("shown as \uFFFD on purpose", Placeholder);

        List<RawSample> rows = await ReadAsync(path);

        Assert.Equal("shown as \uFFFD on purpose", rows[0].Caption);
        Assert.Equal([false, true], rows.Select(r => r.CaptionHadInvalidUtf8));
    }

    [Fact]
    public async Task Cjk_emoji_and_newlines_survive_unchanged_and_unflagged()
    {
        string[] captions = ["一只猫坐在窗台上", "ラーメン🍜 and 🐈‍⬛", "line one\nline two\r\nline three", ""];
        string path = await WriteCaptionsAsync(captions);

        List<RawSample> rows = await ReadAsync(path);

        Assert.Equal(captions, rows.Select(r => r.Caption));
        Assert.All(rows, r => Assert.False(r.CaptionHadInvalidUtf8));
    }

    /// <summary>
    /// A shard with an image and a caption column, uncompressed so that <see cref="Placeholder"/> can be
    /// overwritten in place with bytes that are not UTF-8.
    /// </summary>
    internal static async Task<string> WriteCaptionShardAsync(string folder, string name,
        IReadOnlyList<byte[]> images, IReadOnlyList<string> captions)
    {
        string path = Path.Combine(folder, name);
        var image = new DataField("image", typeof(byte[]), isNullable: true);
        var caption = new DataField("caption", typeof(string), isNullable: true);
        await using (FileStream stream = File.Create(path))
        {
            var options = new ParquetOptions { CompressionMethod = CompressionMethod.None };
            await using ParquetWriter writer = await ParquetWriter.CreateAsync(new ParquetSchema(image, caption),
                stream, options, false, default);
            using ParquetRowGroupWriter group = writer.CreateRowGroup();
            await group.WriteAsync(image, images.ToArray(), null);
            await group.WriteAsync(caption, captions.ToArray(), null);
        }

        byte[] bytes = await File.ReadAllBytesAsync(path);
        byte[] marker = Encoding.UTF8.GetBytes(Placeholder);
        int replaced = 0;
        for (int at = bytes.AsSpan().IndexOf(marker); at >= 0; at = IndexOf(bytes, marker, at + 1))
        {
            bytes[at + 4] = 0xFF;
            bytes[at + 5] = (byte)'A';
            replaced++;
        }
        Assert.True(captions.Contains(Placeholder) == replaced > 0, "the placeholder was not found in the file");
        await File.WriteAllBytesAsync(path, bytes);
        return path;
    }

    private Task<string> WriteCaptionsAsync(params string[] captions) =>
        WriteCaptionShardAsync(_folder, "captions.parquet", [.. captions.Select((_, i) => TestShards.Bytes(i, 4))],
            captions);

    private static int IndexOf(byte[] bytes, byte[] marker, int from)
    {
        int at = bytes.AsSpan(from).IndexOf(marker);
        return at < 0 ? -1 : from + at;
    }

    private static async Task<List<RawSample>> ReadAsync(string path)
    {
        var rows = new List<RawSample>();
        await foreach (RawSample row in new ShardReader(new IngestOptions()).ReadAsync(path, default))
        {
            rows.Add(row);
        }
        return rows;
    }
}
