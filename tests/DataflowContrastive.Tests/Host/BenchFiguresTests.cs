using System.Text.Json;
using DataflowContrastive.Host.Benchmarking;

namespace DataflowContrastive.Tests.Host;

/// <summary>The parts of <c>dfc bench augment</c> that read other programs' output and judge figures; nothing here
/// is timed.</summary>
public sealed class BenchFiguresTests
{
    // Printed by libjpeg-turbo 2.1.5's `tjbench 000000000139.jpg -benchtime 0.3 -warmup 0.1 -quiet -nowrite -rgbx`.
    private const string TjbenchQuiet = """

        Warmup time = 0.1 seconds

        All performance values in Mpixels/sec

        Pixel      JPEG   JPEG     Image  Image   Xform   Comp    Decomp  
        Format     CS     Subsamp  Width  Height  Perf    Ratio   Perf    

        RGBX (TD)  YCbCr  4:4:4    640    426     N/A     N/A     34.10   

        """;

    // The same for a grayscale JPEG (COCO 000000431848.jpg).
    private const string TjbenchGray = """

        Warmup time = 0.1 seconds

        All performance values in Mpixels/sec

        Pixel      JPEG   JPEG     Image  Image   Xform   Comp    Decomp  
        Format     CS     Subsamp  Width  Height  Perf    Ratio   Perf    

        RGBX (TD)  GRAY   GRAY     378    640     N/A     N/A     146.9   

        """;

    [Fact]
    public void Tjbench_quiet_table_gives_the_size_and_the_decompression_rate()
    {
        TjbenchDecode decode = TjbenchOutput.Parse(TjbenchQuiet);

        Assert.Equal(new TjbenchDecode(640, 426, 34.10), decode);
        // 34.10e6 pixels/s over 640 * 426 = 272,640 pixels an image.
        Assert.Equal(125.0733, decode.ImagesPerSecond, 3);
    }

    [Fact]
    public void Tjbench_row_of_a_grayscale_jpeg_is_read_the_same_way()
    {
        Assert.Equal(new TjbenchDecode(378, 640, 146.9), TjbenchOutput.Parse(TjbenchGray));
    }

    [Theory]
    [InlineData("")]
    [InlineData("USAGE: tjbench\n       <Inputimage (BMP|PPM)> <Quality> [options]\n")]
    [InlineData("Image size: 640 x 422\nDecompress    --> Frame rate:         382.637187 fps\n")]
    public void Tjbench_output_without_a_result_row_is_refused(string output)
    {
        Assert.Throws<FormatException>(() => TjbenchOutput.Parse(output));
    }

    [Fact]
    public void Tjbench_rate_over_several_files_weighs_each_by_the_time_it_takes()
    {
        // 100 px at 0.01 Mpx/s is 100 images/s; 100 px at 0.03 Mpx/s is 300 images/s. One of each takes
        // 0.01 + 0.00333 s, so 2 / 0.013333 = 150 images/s (not the plain mean, 200).
        TjbenchDecode[] decodes = [new(10, 10, 0.01), new(10, 10, 0.03)];

        Assert.Equal(150, TjbenchDecode.CombinedImagesPerSecond(decodes), 9);
        Assert.Equal(0.015, new TjbenchFigure(["a.jpg", "b.jpg"], decodes).MegapixelsPerSecond, 9);
    }

    [Fact]
    public void Peer_result_is_the_json_the_script_prints()
    {
        // Printed by `/usr/bin/python3 bench/augment_peer.py --size 96 --workers 2 --passes 1` on 8 COCO photos.
        string output = File.ReadAllText(Path.Combine(TestPaths.Fixtures, "Host", "augment_peer_output.txt"));

        PeerResult result = PeerResult.Parse(output);

        Assert.Equal(new PeerResult(96, 2, 8, 0.2), result);
        Assert.Equal(40, result.ImagesPerSecond, 9);
    }

    [Fact]
    public void Peer_result_is_read_from_the_last_line_after_any_warnings()
    {
        string output = "/usr/lib/python3/dist-packages/torchvision/io/image.py:13: UserWarning: Failed to load\n" +
            "{\"size\": 224, \"workers\": 2, \"images\": 717, \"seconds\": 3.5}\n\n";

        PeerResult result = PeerResult.Parse(output);

        Assert.Equal(new PeerResult(224, 2, 717, 3.5), result);
        Assert.Equal(204.857, result.ImagesPerSecond, 3);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Traceback (most recent call last):\n  File \"x\", line 1")]
    [InlineData("{\"size\": 224, \"workers\": 2, \"images\": 717}")]
    [InlineData("{\"size\": 224, \"workers\": 2, \"images\": 0, \"seconds\": 0.0}")]
    public void Peer_output_without_a_complete_result_is_refused(string output)
    {
        Assert.Throws<FormatException>(() => PeerResult.Parse(output));
    }

    [Fact]
    public void A_missing_torch_names_the_debian_packages_to_install()
    {
        var run = new ToolRun(1, "", "Traceback (most recent call last):\n" +
            "  File \"bench/augment_peer.py\", line 16, in <module>\n    import torch\n" +
            "ModuleNotFoundError: No module named 'torch'\n");

        string? problem = PeerBenchmark.ProblemOf(run);

        Assert.NotNull(problem);
        Assert.StartsWith("ModuleNotFoundError: No module named 'torch'", problem, StringComparison.Ordinal);
        Assert.Contains("apt-get install python3-torch python3-torchvision python3-pil", problem,
            StringComparison.Ordinal);
        Assert.Contains("/usr/bin/python3 not found", PeerBenchmark.ProblemOf(null), StringComparison.Ordinal);
        Assert.Null(PeerBenchmark.ProblemOf(new ToolRun(0, "{}", "")));
    }

    [Fact]
    public void Targets_compare_ours_with_the_peer_and_ours_per_core_with_tjbench()
    {
        // Ours: 1200 images in 3 s on 2 cores is 400 images/s, 200 per core; at 96, 3000 in 3 s is 1000, 500 a core.
        OursFigure[] ours = [new(224, 1200, 0, 3, 2), new(96, 3000, 0, 3, 2)];
        PeerResult[] peer = [new(224, 2, 720, 4)]; // 180 images/s; the peer at 96 is missing.

        // tjbench: a 1000 x 1000 JPEG at 250 Mpx/s is 250 images/s.
        var tjbench = new TjbenchFigure(["a.jpg"], [new(1000, 1000, 250)]);

        IReadOnlyList<BenchTarget> targets = BenchTarget.For(ours, peer, tjbench);

        Assert.Equal(4, targets.Count);
        AssertTarget(targets[0], "ours / torchvision", 224, 400.0 / 180, goal: 2, met: true);
        Assert.Null(targets[1].Ratio);
        Assert.False(targets[1].Met);
        Assert.EndsWith("at 96: not measured (target >= 2: not measured)", targets[1].ToString(),
            StringComparison.Ordinal);
        AssertTarget(targets[2], "ours per core / tjbench full-size decode", 224, 0.8, goal: 1, met: false);
        AssertTarget(targets[3], "ours per core / tjbench full-size decode", 96, 2.0, goal: 1, met: true);
        Assert.Equal("ours / torchvision at 224: 2.22 (target >= 2: met)", targets[0].ToString());
        Assert.Equal("ours per core / tjbench full-size decode at 224: 0.80 (target >= 1: not met)",
            targets[2].ToString());
    }

    [Fact]
    public void Targets_without_tjbench_are_not_measured()
    {
        IReadOnlyList<BenchTarget> targets = BenchTarget.For([new(224, 300, 0, 1, 1)], [], null);

        Assert.All(targets, t => Assert.Null(t.Ratio));
        Assert.All(targets, t => Assert.Null(t.CpuRatio));
    }

    [Fact]
    public void Json_report_holds_the_figures_and_the_targets()
    {
        var report = new BenchReport
        {
            Machine = "test machine", Cores = 2, Workers = 2, Passes = 3, Recipe = "simclr", Source = "photos",
            Files = 400, TurboJpeg = true, Ours = [new(224, 1200, 1, 3, 2)], Peer = [new(224, 2, 1200, 6)],
            Tjbench = new TjbenchFigure(["a.jpg"], [new(1000, 1000, 100)]),
        };

        JsonElement json = JsonDocument.Parse(report.ToJson()).RootElement;

        Assert.Equal(400, json.GetProperty("ours")[0].GetProperty("images_per_second").GetDouble());
        Assert.Equal(200, json.GetProperty("ours")[0].GetProperty("images_per_second_per_core").GetDouble());
        Assert.Equal(200, json.GetProperty("peer")[0].GetProperty("images_per_second").GetDouble());
        Assert.Equal(100, json.GetProperty("tjbench").GetProperty("images_per_second").GetDouble(), 9);
        JsonElement[] targets = [.. json.GetProperty("targets").EnumerateArray()];
        Assert.Equal([2.0, 2.0], targets.Select(t => Math.Round(t.GetProperty("ratio").GetDouble(), 9)));
        Assert.All(targets, t => Assert.True(t.GetProperty("met").GetBoolean()));
        Assert.Equal(JsonValueKind.Null, json.GetProperty("peer_problem").ValueKind);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("memory").ValueKind);
    }

    [Fact]
    public void Memory_that_settles_after_warm_up_and_saws_is_flat()
    {
        // 10 minutes, a sample every 10 s: 100 MiB growing to 200 MiB in the first minute (warm-up), then a saw
        // between 195 and 205 MiB. Peak of 60-120 s: 205; peak of 540-600 s: 205; drift 0.
        MemorySample[] samples = [.. Enumerable.Range(0, 61).Select(i => new MemorySample(i * 10,
            Mib(i < 6 ? 100 + i * 20 : i % 2 == 0 ? 195 : 205)))];

        MemoryVerdict verdict = MemoryVerdict.Judge(samples);

        Assert.Equal(60, verdict.WarmupSeconds);
        Assert.Equal(60, verdict.WindowSeconds);
        Assert.Equal(Mib(205), verdict.BaselineMaxBytes);
        Assert.Equal(Mib(205), verdict.FinalMaxBytes);
        Assert.Equal(Mib(205), verdict.MaxBytes);
        Assert.Equal(Mib(100), verdict.First.Bytes);
        Assert.Equal(0, verdict.Drift);
        Assert.True(verdict.Flat);
    }

    [Fact]
    public void Memory_that_keeps_growing_is_not_flat()
    {
        // 1 MiB more every 10 s from 200 MiB: the peak of 60-120 s is at 120 s (212), of 540-600 s at 600 s (260):
        // a drift of 48 / 212 = 22.6 %.
        MemorySample[] samples = [.. Enumerable.Range(0, 61).Select(i => new MemorySample(i * 10, Mib(200 + i)))];

        MemoryVerdict verdict = MemoryVerdict.Judge(samples);

        Assert.Equal(48.0 / 212, verdict.Drift, 9);
        Assert.False(verdict.Flat);
    }

    [Fact]
    public void Memory_of_a_short_run_is_judged_over_thirds_of_it()
    {
        // 90 s in samples 15 s apart: warm-up 0-30 s; baseline 30-60 s, ends included (100, 110, 112: peak 112);
        // final window 60-90 s (112, 114, 115: peak 115). Drift 3 / 112, about 2.7 %.
        MemorySample[] samples = [new(0, Mib(50)), new(15, Mib(90)), new(30, Mib(100)), new(45, Mib(110)),
            new(60, Mib(112)), new(75, Mib(114)), new(90, Mib(115))];

        MemoryVerdict verdict = MemoryVerdict.Judge(samples);

        Assert.Equal(30, verdict.WindowSeconds);
        Assert.Equal(Mib(112), verdict.BaselineMaxBytes);
        Assert.Equal(Mib(115), verdict.FinalMaxBytes);
        Assert.Equal(3.0 / 112, verdict.Drift, 9);
        Assert.True(verdict.Flat);
    }

    [Fact]
    public void Tjbench_takes_a_few_jpegs_spread_over_the_files()
    {
        string[] files = ["0.jpg", "1.png", "2.JPG", "3.jpeg", "4.jpg", "5.webp", "6.jpg", "7.jpg", "8.jpg", "9.jpg"];

        // The JPEGs are 0, 2, 3, 4, 6, 7, 8, 9; four spread over eight are the 1st, 3rd, 5th and 7th.
        Assert.Equal(["0.jpg", "3.jpeg", "6.jpg", "8.jpg"], TjbenchBenchmark.Pick(files, 4));
        Assert.Equal(["0.jpg"], TjbenchBenchmark.Pick(["0.jpg", "1.png"], 4));
    }

    [Fact]
    public void By_default_tjbench_decodes_every_jpeg_sharing_a_minute_between_them()
    {
        string[] files = ["0.jpg", "1.png", "2.JPG", "3.jpeg"];

        Assert.Equal(["0.jpg", "2.JPG", "3.jpeg"], TjbenchBenchmark.Pick(files, int.MaxValue));
        // 60 s over 4 files is 15 s, held to 2; over 239 it is 0.251 s; over 1000 it is 0.06 s, raised to 0.25.
        Assert.Equal(2, TjbenchBenchmark.SecondsPerFile(4));
        Assert.Equal(60.0 / 239, TjbenchBenchmark.SecondsPerFile(239), 12);
        Assert.Equal(0.25, TjbenchBenchmark.SecondsPerFile(1000));
    }

    [Fact]
    public void Ratios_per_cpu_second_divide_each_rate_by_how_busy_its_cores_were()
    {
        // Ours: 400 images/s keeping 1.6 cores busy is 250 per CPU-second; the peer: 200 images/s with 2.5 busy
        // is 80; tjbench: 100 images/s with 0.5 busy is 200. Ratios 250 / 80 = 3.125 and 250 / 200 = 1.25.
        OursFigure[] ours = [new(224, 1200, 0, 3, 2, CpuShare: 1.6)];
        PeerResult[] peer = [new PeerResult(224, 2, 1200, 6) { CpuShare = 2.5 }];
        var tjbench = new TjbenchFigure(["a.jpg"], [new(1000, 1000, 100)], CpuShare: 0.5);

        IReadOnlyList<BenchTarget> targets = BenchTarget.For(ours, peer, tjbench);

        Assert.Equal(3.125, targets[0].CpuRatio!.Value, 9);
        Assert.Equal(1.25, targets[1].CpuRatio!.Value, 9);
        // The targets still go by wall time: 400 / 200 = 2 (met) and 200 per core / 100 = 2 (met).
        Assert.Equal([2.0, 2.0], targets.Select(t => Math.Round(t.Ratio!.Value, 9)));
        Assert.EndsWith("(target >= 1: met); per CPU-second 1.25", targets[1].ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Process_stat_gives_own_and_children_cpu_time()
    {
        // A /proc/PID/stat line (the command name may hold spaces and parentheses): utime 250, stime 50,
        // cutime 1000, cstime 20 ticks of 10 ms.
        const string stat = "4242 (dotnet (x) y) S 1 4242 4242 0 -1 4194560 1 0 0 0 250 50 1000 20 20 0 9 0 " +
            "123 456 789 18446744073709551615 1 1 0 0 0 0 0 4096 17 1 0 0 0 0 0";

        CpuTimes times = CpuTimes.Parse(stat);

        Assert.Equal(TimeSpan.FromSeconds(3), times.Self);
        Assert.Equal(TimeSpan.FromSeconds(10.2), times.Children);
    }

    private static void AssertTarget(BenchTarget target, string name, int size, double ratio, double goal, bool met)
    {
        Assert.Equal(name, target.Name);
        Assert.Equal(size, target.Size);
        Assert.Equal(ratio, target.Ratio!.Value, 9);
        Assert.Equal(goal, target.Goal);
        Assert.Equal(met, target.Met);
    }

    private static long Mib(int mib) => mib * 1048576L;
}
