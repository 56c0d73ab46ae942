using System.Text.Json;
using DataflowContrastive.Tests.Ingest;

namespace DataflowContrastive.Tests.Host;

/// <summary>
/// A shard folder that mixes good rows, every bad image and bad Parquet file of shared/bugs, the real Parquet files
/// of shared/data, a zero-row shard, a truncated shard and junk files. The expected accounting is stated here from
/// bugs/INDEX.md and the files' known contents, not from our code's output.
/// </summary>
internal sealed class MixedFolder
{
    /// <summary>A caption far past any context length: 400 short words.</summary>
    public static readonly string LongCaption = string.Join(' ', Enumerable.Repeat("cat", 400));

    /// <summary>Captions that must reach the model unchanged.</summary>
    public const string CjkCaption = "猫 🐈\nline two";

    /// <summary>What <c>CaptionTextTests</c> turns its placeholder into: FF replaced, the A kept.</summary>
    public const string InvalidUtf8Caption = "bad:\uFFFDA|";

    // Per bug image, the outcome bugs/INDEX.md states: null for a good sample, else the rejection code.
    private static readonly (string File, string? Code)[] BugImages =
    [
        ("libjpegturbo__monkey16.png", null),
        ("pillow__exif-dpi-zerodivision.jpg", null),
        ("pillow__hopper_orientation_6.jpg", null),
        ("pillow__iss634.gif", null),
        ("pillow__orientation_rectangle.jpg", null),
        ("pillow__p_trns_single.png", null),
        ("pillow__pil_sample_cmyk.jpg", null),
        ("pillow__reallybig.bmp", "image-too-many-pixels"),
        ("pillow__truncated_image.png", "image-truncated"),
        ("pillow__truncated_jpeg.jpg", "image-truncated"),
    ];

    private MixedFolder(string path)
    {
        Path = path;
    }

    public string Path { get; }

    /// <summary>Shard files that discovery must find: every file here except the junk.</summary>
    public int Shards { get; private set; }

    /// <summary>Rows in shards that can be read.</summary>
    public long Rows { get; private set; }

    /// <summary>Rows that must become good samples.</summary>
    public long Good { get; private set; }

    /// <summary>Per reason code, the rejections expected (rows and shards).</summary>
    public SortedDictionary<string, long> Rejected { get; } = new(StringComparer.Ordinal);

    /// <summary>Per key of a rejected row, its expected code.</summary>
    public Dictionary<string, string> RejectedKeys { get; } = new(StringComparer.Ordinal);

    /// <summary>Per shard file name that must be rejected as a whole, its expected code.</summary>
    public Dictionary<string, string> RejectedShards { get; } = new(StringComparer.Ordinal);

    /// <summary>Captions of the good samples, by key.</summary>
    public Dictionary<string, string> GoodCaptions { get; } = new(StringComparer.Ordinal);

    public long RowsRejected => Rows - Good;

    public static async Task<MixedFolder> CreateAsync(string path)
    {
        Directory.CreateDirectory(path);
        var folder = new MixedFolder(path);
        await folder.WriteRowsShardAsync();
        await folder.WriteUtf8ShardAsync();
        await folder.WriteEmptyAndTruncatedShardsAsync();
        folder.CopyBugShards();
        folder.CopyRealShards();
        await folder.WriteJunkAsync();
        return folder;
    }

    /// <summary>The first COCO val2017 photos of the captions file, with the size the file states.</summary>
    public static IReadOnlyList<(byte[] Bytes, int Width, int Height)> CocoImages(int count)
    {
        using JsonDocument captions = JsonDocument.Parse(
            File.ReadAllBytes(TestPaths.Shared("data", "coco-mini", "annotations", "captions_val2017.json")));
        return [.. captions.RootElement.GetProperty("images").EnumerateArray()
            .Select(image => (File: TestPaths.Shared("data", "coco-mini", "val2017",
                image.GetProperty("file_name").GetString()!), image))
            .Where(p => File.Exists(p.File))
            .Take(count)
            .Select(p => (File.ReadAllBytes(p.File), p.image.GetProperty("width").GetInt32(),
                p.image.GetProperty("height").GetInt32()))];
    }

    private async Task WriteRowsShardAsync()
    {
        IReadOnlyList<(byte[] Bytes, int Width, int Height)> coco = CocoImages(5);
        var rows = new List<(byte[]? Image, string? Caption, int? Label, string Key)>();
        foreach ((string file, string? code) in BugImages)
        {
            rows.Add((await File.ReadAllBytesAsync(TestPaths.Shared("bugs", "images", file)), $"picture {file[..4]}",
                1, file));
            Expect(file, code);
        }
        for (int i = 0; i < 4; i++)
        {
            string caption = i == 0 ? CjkCaption : $"a photo number {i}";
            rows.Add((coco[i].Bytes, caption, 2, $"coco-{i}"));
            Expect($"coco-{i}", null, caption);
        }
        rows.Add((coco[4].Bytes, LongCaption, 2, "long-caption"));
        Expect("long-caption", null, LongCaption);

        rows.Add((coco[0].Bytes, "   \t\n", 2, "blank-caption"));
        Expect("blank-caption", "caption-missing");
        rows.Add((coco[0].Bytes, "", 2, "empty-caption"));
        Expect("empty-caption", "caption-missing");
        rows.Add((coco[0].Bytes, null, 2, "null-caption"));
        Expect("null-caption", "caption-missing");
        rows.Add((null, "an image that is not there", 2, "null-image"));
        Expect("null-image", "image-missing");
        rows.Add(("plain text, not an image"u8.ToArray(), "not a picture", 2, "text-bytes"));
        Expect("text-bytes", "image-unsupported-format");

        // Two row groups, so that the shard is read group by group as real ones are.
        await TestShards.WriteFlatAsync(Shard("a-rows.parquet"), [[.. rows.Take(9)], [.. rows.Skip(9)]]);
        Shards++;
    }

    private async Task WriteUtf8ShardAsync()
    {
        IReadOnlyList<(byte[] Bytes, int Width, int Height)> coco = CocoImages(7);
        await CaptionTextTests.WriteCaptionShardAsync(Path, "b-utf8.parquet", [coco[5].Bytes, coco[6].Bytes],
            ["a clean caption", CaptionTextTests.Placeholder]);
        Expect("b-utf8.parquet:0", null, "a clean caption");
        Expect("b-utf8.parquet:1", null, InvalidUtf8Caption);
        Shards++;
    }

    private async Task WriteEmptyAndTruncatedShardsAsync()
    {
        await TestShards.WriteFlatAsync(Shard("c-empty.parquet"), []);
        byte[] good = await File.ReadAllBytesAsync(Shard("a-rows.parquet"));
        await File.WriteAllBytesAsync(Shard("d-truncated.parquet"), good[..(good.Length / 2)]);
        ExpectShard("d-truncated.parquet", "shard-corrupt");
        Shards += 2;
    }

    // None of these has an image column, found from the footer before any page is read; PARQUET-1481's footer
    // itself is corrupt.
    private void CopyBugShards()
    {
        (string File, string Code)[] bugs =
        [
            ("parquetdotnet__multi_page_dictionary_with_nulls.parquet", "shard-columns"),
            ("parquetdotnet__pyarrow_v23.parquet", "shard-columns"),
            ("parquettesting__PARQUET-1481.parquet", "shard-corrupt"),
            ("parquettesting__datapage_v2_empty_datapage.snappy.parquet", "shard-columns"),
            ("parquettesting__large_string_map.brotli.parquet", "shard-columns"),
        ];
        Directory.CreateDirectory(System.IO.Path.Combine(Path, "bugs"));
        foreach ((string file, string code) in bugs)
        {
            File.Copy(TestPaths.Shared("bugs", "parquet", file), System.IO.Path.Combine(Path, "bugs", file));
            ExpectShard(file, code);
            Shards++;
        }
    }

    // The LAION file holds links only; the smoosense file holds 4 photos and no caption column.
    private void CopyRealShards()
    {
        File.Copy(TestPaths.Shared("data", "parquet-real", "laion_meta_test_1000.parquet"), Shard("e-links.parquet"));
        ExpectShard("e-links.parquet", "shard-links-only");
        File.Copy(TestPaths.Shared("data", "parquet-real", "smoosense_images.parquet"), Shard("f-photos.parquet"));
        for (int row = 0; row < 4; row++)
        {
            Expect($"f-photos.parquet:{row}", "caption-missing");
        }
        Shards += 2;
    }

    private async Task WriteJunkAsync()
    {
        byte[] good = await File.ReadAllBytesAsync(Shard("a-rows.parquet"));
        await File.WriteAllBytesAsync(Shard(".a-rows.parquet.crc"), good[..12]);
        await File.WriteAllTextAsync(Shard("_SUCCESS"), "");
        await File.WriteAllTextAsync(Shard("x.parquet"), "not a shard at all");
        await File.WriteAllTextAsync(Shard("notes.txt"), "shards of a test");
    }

    private void Expect(string key, string? code, string? caption = null)
    {
        Rows++;
        if (code is null)
        {
            Good++;
            GoodCaptions[key] = caption ?? $"picture {key[..4]}";
            return;
        }
        RejectedKeys[key] = code;
        Rejected[code] = Rejected.GetValueOrDefault(code) + 1;
    }

    private void ExpectShard(string file, string code)
    {
        RejectedShards[file] = code;
        Rejected[code] = Rejected.GetValueOrDefault(code) + 1;
    }

    private string Shard(string name) => System.IO.Path.Combine(Path, name);
}
