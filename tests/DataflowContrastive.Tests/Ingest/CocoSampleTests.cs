using System.Buffers.Binary;
using System.Text.Json;
using DataflowContrastive.Ingest;

namespace DataflowContrastive.Tests.Ingest;

/// <summary>
/// The committed sample in samples/coco-cc, checked against COCO's own captions files: every CC BY / CC BY-SA
/// image once, with its first caption, its bytes unchanged and its size as COCO states it.
/// </summary>
public sealed class CocoSampleTests
{
    private static readonly string CocoRoot = TestPaths.Shared("data", "coco-mini");

    private sealed record CocoEntry(string Folder, string FileName, int Width, int Height, string FirstCaption);

    // Parsed here, independently of PackSources: licence 4 (CC BY 2.0) or 5 (CC BY-SA 2.0), first caption in
    // the file's order.
    private static Dictionary<string, CocoEntry> ExpectedByKey()
    {
        var expected = new Dictionary<string, CocoEntry>();
        foreach (string split in new[] { "train2017", "val2017" })
        {
            using JsonDocument json = JsonDocument.Parse(
                File.ReadAllBytes(Path.Combine(CocoRoot, "annotations", $"captions_{split}.json")));
            var firstCaption = new Dictionary<long, string>();
            foreach (JsonElement a in json.RootElement.GetProperty("annotations").EnumerateArray())
            {
                firstCaption.TryAdd(a.GetProperty("image_id").GetInt64(), a.GetProperty("caption").GetString()!);
            }
            foreach (JsonElement image in json.RootElement.GetProperty("images").EnumerateArray())
            {
                if (image.GetProperty("license").GetInt32() is 4 or 5)
                {
                    string file = image.GetProperty("file_name").GetString()!;
                    expected[Path.GetFileNameWithoutExtension(file) + "_0"] = new CocoEntry(split, file,
                        image.GetProperty("width").GetInt32(), image.GetProperty("height").GetInt32(),
                        firstCaption[image.GetProperty("id").GetInt64()].Trim());
                }
            }
        }
        return expected;
    }

    [Fact]
    public async Task The_committed_sample_holds_each_openly_licensed_COCO_image_once_with_its_first_caption()
    {
        Dictionary<string, CocoEntry> expected = ExpectedByKey();
        IReadOnlyList<string> shards = ShardDiscovery.Find(["samples/coco-cc"], TestPaths.RepoRoot);
        var rows = new List<RawSample>();
        foreach (string shard in shards)
        {
            await foreach (RawSample sample in new ShardReader(new IngestOptions()).ReadAsync(shard, default))
            {
                rows.Add(sample);
            }
        }

        Assert.Equal(51, expected.Count);
        Assert.Equal(3, shards.Count);
        Assert.Equal(51, rows.Count);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal),
            rows.Select(r => r.Key).Order(StringComparer.Ordinal));
        foreach (RawSample row in rows)
        {
            CocoEntry entry = expected[row.Key];
            Assert.Equal(entry.FirstCaption, row.Caption);
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(CocoRoot, entry.Folder, entry.FileName)), row.Image);
        }
    }

    [Fact]
    public async Task The_committed_sample_states_each_image_size_as_COCO_does_in_small_row_groups()
    {
        Dictionary<string, CocoEntry> expected = ExpectedByKey();
        var reader = new ShardColumnReader(new IngestOptions());
        int rowGroups = 0, rows = 0;
        foreach (string shard in ShardDiscovery.Find(["samples/coco-cc"], TestPaths.RepoRoot))
        {
            string[] columns = ["key", "width", "height", "image.path"];
            await foreach (ColumnBatch batch in reader.ReadAsync(shard, columns, default))
            {
                rowGroups++;
                for (int i = 0; i < batch.RowCount; i++, rows++)
                {
                    CocoEntry entry = expected[(string)batch["key"][i]!];
                    Assert.Equal((entry.Width, entry.Height, entry.FileName),
                        ((int)batch["width"][i]!, (int)batch["height"][i]!, (string?)batch["image.path"][i]));
                }
            }
        }

        Assert.Equal(51, rows);
        Assert.True(rowGroups >= 9, $"only {rowGroups} row groups");
    }

    [Fact]
    public void The_attribution_lists_every_packed_image_with_its_Flickr_URL_and_licence()
    {
        string attribution = File.ReadAllText(TestPaths.Repo("samples", "coco-cc", "ATTRIBUTION.md"));

        Assert.Contains("Creative Commons Attribution 4.0", attribution, StringComparison.Ordinal);
        foreach (CocoEntry entry in ExpectedByKey().Values)
        {
            Assert.Contains($"| {entry.FileName} | http://farm", attribution, StringComparison.Ordinal);
        }
        Assert.Equal(51, attribution.Split('\n').Count(line => line.StartsWith("| 0000", StringComparison.Ordinal)));
    }

    /// <summary>A PNG's size, read from its IHDR chunk by hand.</summary>
    internal static (int Width, int Height) PngSize(byte[] png) =>
        (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
}
