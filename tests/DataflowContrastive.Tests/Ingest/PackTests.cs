using DataflowContrastive.Host.Commands;
using DataflowContrastive.Ingest;

namespace DataflowContrastive.Tests.Ingest;

public sealed class PackTests : IDisposable
{
    private readonly string _folder = TestShards.NewFolder();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static async Task<List<ColumnBatch>> ReadColumnsAsync(string shard, params string[] columns)
    {
        var batches = new List<ColumnBatch>();
        var reader = new ShardColumnReader(new IngestOptions());
        await foreach (ColumnBatch batch in reader.ReadAsync(shard, columns, default))
        {
            batches.Add(batch);
        }
        return batches;
    }

    [Fact]
    public async Task Packing_a_table_keeps_the_bytes_and_states_the_real_sizes()
    {
        string images = Path.Combine(_folder, "in");
        Directory.CreateDirectory(images);
        string[] names = ["chelsea.png", "coffee.png", "camera.png"];
        foreach (string name in names)
        {
            File.Copy(TestPaths.Shared("data", "skimage-clip", name), Path.Combine(images, name));
        }
        await File.WriteAllTextAsync(Path.Combine(images, "pairs.csv"),
            "image,caption,label\nchelsea.png,\"a cat, \"\"tabby\"\"\nsecond line\",cat\ncoffee.png,a cup,\n"
            + "camera.png,a man,person\n");
        string output = Path.Combine(_folder, "out");

        int exit = await PackCommand.RunAsync(["--table", Path.Combine(images, "pairs.csv"), "--out", output,
            "--rows-per-shard", "2", "--row-group-size", "1", "--prefix", "t"], default);

        Assert.Equal(0, exit);
        Assert.Equal(["t-00000.parquet", "t-00001.parquet"],
            Directory.GetFiles(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var rows = new List<RawSample>();
        foreach (string shard in ShardDiscovery.Find([output], "/"))
        {
            await foreach (RawSample sample in new ShardReader(new IngestOptions()).ReadAsync(shard, default))
            {
                rows.Add(sample);
            }
        }
        Assert.Equal(["chelsea_0", "coffee_1", "camera_2"], rows.Select(r => r.Key));
        Assert.Equal(["a cat, \"tabby\"\nsecond line", "a cup", "a man"], rows.Select(r => r.Caption));
        Assert.Equal(["cat", null, "person"], rows.Select(r => r.Label));
        for (int i = 0; i < names.Length; i++)
        {
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(images, names[i])), rows[i].Image);
        }

        List<ColumnBatch> first = await ReadColumnsAsync(Path.Combine(output, "t-00000.parquet"), "width", "height");
        Assert.Equal(2, first.Count);
        byte[] chelsea = await File.ReadAllBytesAsync(Path.Combine(images, "chelsea.png"));
        Assert.Equal(CocoSampleTests.PngSize(chelsea), ((int)first[0]["width"][0]!, (int)first[0]["height"][0]!));
    }

    [Fact]
    public void Packing_class_folders_labels_each_image_with_its_folder()
    {
        string root = Path.Combine(_folder, "classes");
        foreach (string label in new[] { "cat", "dog" })
        {
            Directory.CreateDirectory(Path.Combine(root, label));
            File.Copy(TestPaths.Shared("data", "cifar10-test", label, "0000.jpg"), Path.Combine(root, label, "a.jpg"));
        }
        File.WriteAllText(Path.Combine(root, "cat", "notes.txt"), "not an image");

        PackItem[] items = [.. PackSources.FromClassFolders(root)];

        Assert.Equal(["cat/a", "dog/a"], items.Select(i => i.Key));
        Assert.Equal(["cat", "dog"], items.Select(i => i.Label));
        Assert.All(items, i => Assert.Null(i.Caption));
    }

    [Fact]
    public void A_COCO_file_gives_one_row_per_caption_up_to_the_limit_sharing_the_image()
    {
        string json = TestPaths.Shared("data", "coco-mini", "annotations", "captions_val2017.json");

        PackItem[] items = [.. PackSources.FromCocoCaptions(json, TestPaths.Shared("data", "coco-mini", "val2017"),
            new HashSet<int> { 4 }, captionsPerImage: 2)];

        // captions_val2017.json lists 17 images under licence 4, each with five captions.
        Assert.Equal(34, items.Length);
        Assert.Equal(["000000397133_0", "000000397133_1"], items.Take(2).Select(i => i.Key));
        Assert.Same(items[0].Image, items[1].Image);
    }

    [Fact]
    public async Task Unreadable_images_are_left_out_and_the_rest_is_packed_with_upright_sizes()
    {
        string images = Path.Combine(_folder, "in");
        Directory.CreateDirectory(images);
        File.Copy(TestPaths.Shared("bugs", "images", "pillow__orientation_rectangle.jpg"),
            Path.Combine(images, "rotated.jpg"));
        await File.WriteAllTextAsync(Path.Combine(images, "junk.png"), "this is not an image");
        await File.WriteAllTextAsync(Path.Combine(images, "pairs.tsv"),
            "image\tcaption\njunk.png\tnothing\ngone.jpg\tmissing\nrotated.jpg\tstands upright\n");
        string output = Path.Combine(_folder, "out");

        int exit = await PackCommand.RunAsync(["--table", Path.Combine(images, "pairs.tsv"), "--out", output], default);

        // INDEX.md: the rectangle is stored 2x1 with EXIF orientation 8, so upright it is 1 wide and 2 high.
        Assert.Equal(0, exit);
        List<ColumnBatch> batches = await ReadColumnsAsync(Path.Combine(output, "shard-00000.parquet"),
            "caption", "width", "height");
        ColumnBatch batch = Assert.Single(batches);
        Assert.Equal(["stands upright"], batch["caption"]);
        Assert.Equal((1, 2), ((int)batch["width"][0]!, (int)batch["height"][0]!));
    }

    [Fact]
    public async Task Images_left_out_are_counted_by_reason_and_named_with_the_tables_line()
    {
        string images = Path.Combine(_folder, "in");
        Directory.CreateDirectory(images);
        byte[] jpeg = await File.ReadAllBytesAsync(TestPaths.Shared("data", "skimage-clip", "rocket.jpg"));
        await File.WriteAllBytesAsync(Path.Combine(images, "rocket.jpg"), jpeg);
        await File.WriteAllBytesAsync(Path.Combine(images, "cut1.jpg"), jpeg[..(jpeg.Length / 2)]);
        await File.WriteAllBytesAsync(Path.Combine(images, "cut2.jpg"), jpeg[..(jpeg.Length - 10)]);
        await File.WriteAllTextAsync(Path.Combine(images, "junk.png"), "this is not an image");

        // Line 1 is the header; the caption on line 2 runs on to line 3, so gone.jpg is on line 6.
        await File.WriteAllTextAsync(Path.Combine(images, "pairs.csv"),
            "image,caption\nrocket.jpg,\"a rocket\non its pad\"\ncut1.jpg,x\ncut2.jpg,y\ngone.jpg,z\njunk.png,w\n");
        var output = new StringWriter();
        var error = new StringWriter();

        int exit = await PackCommand.RunAsync(["--table", Path.Combine(images, "pairs.csv"), "--out",
            Path.Combine(_folder, "out")], output, error, default);

        Assert.Equal(0, exit);
        Assert.EndsWith("; left out 4 images: 1 missing, 1 not an image format we decode, 2 truncated",
            output.ToString().TrimEnd(), StringComparison.Ordinal);
        Assert.Contains($"pairs.csv, line 6: there is no file {Path.Combine(images, "gone.jpg")}", error.ToString(),
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_table_line_without_its_caption_field_is_left_out_with_its_line()
    {
        var output = new StringWriter();
        var error = new StringWriter();

        int exit = await PackRocketTableAsync("image,caption\nrocket.jpg,a rocket\nrocket.jpg\n", output, error);

        Assert.Equal(0, exit);
        Assert.EndsWith("; left out 1 image: 1 table line short of fields", output.ToString().TrimEnd(),
            StringComparison.Ordinal);
        Assert.Contains("pairs.csv, line 3: the line has 1 of the header's 2 fields (caption missing)",
            error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_table_with_a_quote_never_closed_is_refused_naming_the_line_where_it_opens()
    {
        var error = new StringWriter();

        int exit = await PackRocketTableAsync(
            "image,caption\nrocket.jpg,said \"hi\" twice\nrocket.jpg,\"unclosed quote\nrocket.jpg,x\n", TextWriter.Null,
            error);

        Assert.Equal(1, exit);
        Assert.Contains("pairs.csv, line 3: a quote opened on this line is never closed", error.ToString(),
            StringComparison.Ordinal);
    }

    // Packs a table, given as its text, of lines naming rocket.jpg, which lies beside it.
    private async Task<int> PackRocketTableAsync(string table, TextWriter output, TextWriter error)
    {
        string images = Path.Combine(_folder, "in");
        Directory.CreateDirectory(images);
        File.Copy(TestPaths.Shared("data", "skimage-clip", "rocket.jpg"), Path.Combine(images, "rocket.jpg"));
        await File.WriteAllTextAsync(Path.Combine(images, "pairs.csv"), table);
        return await PackCommand.RunAsync(["--table", Path.Combine(images, "pairs.csv"), "--out",
            Path.Combine(_folder, "out")], output, error, default);
    }

    [Fact]
    public async Task Pack_help_says_truncated_images_are_left_out_too()
    {
        var output = new StringWriter();

        Assert.Equal(0, await PackCommand.RunAsync(["--help"], output, TextWriter.Null, default));

        Assert.Contains("truncated", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("1-based, the header counted", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Class_folder_images_get_a_caption_made_from_their_label()
    {
        string root = Path.Combine(_folder, "classes");
        foreach (string label in new[] { "cat", "horse" })
        {
            Directory.CreateDirectory(Path.Combine(root, label));
            File.Copy(TestPaths.Shared("data", "skimage-clip", label == "cat" ? "chelsea.png" : "horse.png"),
                Path.Combine(root, label, "1.png"));
        }
        string output = Path.Combine(_folder, "out");

        int exit = await PackCommand.RunAsync(["--class-folders", root, "--out", output,
            "--caption-template", "a photo of a {label}, a kind of animal"], default);

        Assert.Equal(0, exit);
        ColumnBatch batch = Assert.Single(await ReadColumnsAsync(Path.Combine(output, "shard-00000.parquet"),
            "caption", "label"));
        Assert.Equal(["a photo of a cat, a kind of animal", "a photo of a horse, a kind of animal"], batch["caption"]);
        Assert.Equal(["cat", "horse"], batch["label"]);
    }

    [Fact]
    public async Task Class_folder_labels_are_kept_when_a_table_without_labels_is_packed_first()
    {
        string root = Path.Combine(_folder, "classes", "cat");
        Directory.CreateDirectory(root);
        File.Copy(TestPaths.Shared("data", "skimage-clip", "chelsea.png"), Path.Combine(root, "1.png"));
        File.Copy(TestPaths.Shared("data", "skimage-clip", "coffee.png"), Path.Combine(_folder, "coffee.png"));
        await File.WriteAllTextAsync(Path.Combine(_folder, "t.csv"), "image,caption\ncoffee.png,a cup\n");
        string output = Path.Combine(_folder, "out");

        int exit = await PackCommand.RunAsync(["--table", Path.Combine(_folder, "t.csv"), "--class-folders",
            Path.Combine(_folder, "classes"), "--out", output], default);

        Assert.Equal(0, exit);
        ColumnBatch batch = Assert.Single(await ReadColumnsAsync(Path.Combine(output, "shard-00000.parquet"),
            "caption", "label"));
        Assert.Equal(["a cup", "a photo of a cat."], batch["caption"]);
        Assert.Equal([null, "cat"], batch["label"]);
    }

    [Fact]
    public async Task Pack_without_a_source_is_a_usage_error()
    {
        Assert.Equal(2, await PackCommand.RunAsync(["--out", _folder], default));
    }
}
