using System.Globalization;
using DataflowContrastive.Augment;
using DataflowContrastive.Host.Benchmarking;
using DataflowContrastive.Host.Pipelines;

namespace DataflowContrastive.Host.Commands;

/// <summary>
/// <c>dfc bench augment</c>: measures, in one process and back to back on the same files and cores, our decode plus
/// augmentation throughput at each size, the same pipeline in PyTorch (torchvision in a DataLoader) and tjbench's raw
/// full-size decode rate, and prints the ratios to the targets. Exits 0 when every figure was measured (whether the
/// targets are met or not: a benchmark reports), 1 when no image is found or a comparison could not be run (the
/// message says what to install), and 2 on a usage error.
/// </summary>
public static class BenchCommand
{
    private const string DefaultImages = "../shared/data/coco-mini";
    private static readonly TimeSpan MemoryInterval = TimeSpan.FromSeconds(10);

    private const string Usage = """
        usage: dfc bench augment [options]

        Measures, on the same files and cores, back to back: our decode + augmentation (images/s) at each size,
        the same pipeline in PyTorch (Pillow + torchvision in a DataLoader, Debian's /usr/bin/python3 running
        bench/augment_peer.py) and tjbench's raw full-size JPEG decode rate on one core; prints the ratios:
        ours / torchvision (target >= 2) and ours per core / tjbench (target >= 1).

        options:
          --images DIR_OR_GLOB...  image files, folders (searched recursively) or globs (* and **); default
                                   ../shared/data/coco-mini next to the repository (development data only)
          --workers N              our threads and the DataLoader's worker processes (default: the cores)
          --passes N               timed passes over the files, after one warm-up pass (default 3)
          --sizes 224,96           output sides to measure (default 224,96)
          --recipe simclr          augmentation recipe; the peer implements simclr only (default simclr)
          --json                   print the figures as JSON instead of text
          --minutes M              then run our pipeline for M minutes, sampling resident memory every 10 s,
                                   and say whether it stayed flat (default 0: no long run)
          --tjbench-files N        give tjbench only N of the JPEGs, evenly spread (default: every one; all of
                                   them share 60 s of decoding, 0.25 to 2 s each)
        """;

    /// <summary>Runs the command with <paramref name="args"/> (after the verb), printing to the console.</summary>
    public static Task<int> RunAsync(string[] args, CancellationToken cancellationToken) =>
        RunAsync(args, Console.Out, Console.Error, cancellationToken);

    /// <summary>Runs the command, printing the figures to <paramref name="output"/> and progress and problems to
    /// <paramref name="error"/>.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error,
        CancellationToken cancellationToken)
    {
        (BenchArguments? arguments, int exitCode) =
            await CommandArguments.ParseAsync("bench", args, Usage, BenchArguments.Parse, output, error);
        if (arguments is not { } parsed)
        {
            return exitCode;
        }

        string? root = BenchImages.FindRepositoryRoot(Directory.GetCurrentDirectory());
        IReadOnlyList<string> entries = parsed.Images;
        if (entries.Count == 0)
        {
            string? folder = root is null ? null : Path.GetFullPath(Path.Combine(root, DefaultImages));
            if (folder is null || !Directory.Exists(folder))
            {
                await error.WriteLineAsync($"dfc bench: no --images given, and the default {DefaultImages} (the " +
                    "development photos next to the repository) is missing" +
                    (root is null ? " (not inside a checkout)" : $" at {folder}") +
                    "; pass --images DIR_OR_GLOB with the photos to measure on.");
                return 2;
            }
            entries = [folder];
        }

        IReadOnlyList<string> files = BenchImages.Find(entries, Directory.GetCurrentDirectory());
        if (files.Count == 0)
        {
            await error.WriteLineAsync($"dfc bench: no image files found at {string.Join(", ", entries)}");
            return 1;
        }

        BenchReport report = await MeasureAsync(parsed, string.Join(", ", entries), files, root, error,
            cancellationToken);
        await output.WriteAsync(parsed.Json ? report.ToJson() + Environment.NewLine : report.ToText());
        return report.PeerProblem is null && report.TjbenchProblem is null ? 0 : 1;
    }

    private static async Task<BenchReport> MeasureAsync(BenchArguments parsed, string source,
        IReadOnlyList<string> files, string? root, TextWriter progress, CancellationToken cancellationToken)
    {
        string machine = MachineDescription.Describe();
        int cores = Math.Min(parsed.Workers, Environment.ProcessorCount);
        var ours = new List<OursFigure>();
        foreach (int size in parsed.Sizes)
        {
            await progress.WriteLineAsync($"dfc bench: ours at {size} ({files.Count} files, {parsed.Workers} workers)");
            CpuShareClock cpu = CpuShareClock.ForSelf();
            AugmentBenchmarkResult result = AugmentBenchmark.Run(files, Options(parsed, size), new DecodeOptions(),
                parsed.Workers, parsed.Passes, cancellationToken);
            ours.Add(OursFigure.From(result, cores, cpu.Share()));
        }

        await progress.WriteLineAsync($"dfc bench: torchvision at {string.Join(", ", parsed.Sizes)}");
        PeerOutcome peer = await PeerBenchmark.RunAsync(root, files, parsed.Sizes, parsed.Workers, parsed.Passes,
            cancellationToken);

        // The same files as the other measures: JPEGs differ in how fast they decode by a factor of ten.
        IReadOnlyList<string> jpegs = TjbenchBenchmark.Pick(files, parsed.TjbenchFiles);
        double seconds = TjbenchBenchmark.SecondsPerFile(jpegs.Count);
        await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"dfc bench: tjbench on {jpegs.Count} JPEGs, {seconds:0.##} s each"));
        TjbenchOutcome tjbench = await TjbenchBenchmark.RunAsync(jpegs, seconds, seconds / 4, cancellationToken);

        var report = new BenchReport
        {
            Machine = machine, Cores = Environment.ProcessorCount, Workers = parsed.Workers, Passes = parsed.Passes,
            Recipe = parsed.Recipe, Source = source, Files = files.Count, TurboJpeg = MachineDescription.HasTurboJpeg(),
            Ours = ours, Peer = peer.Results, PeerProblem = peer.Problem, Tjbench = tjbench.Figure,
            TjbenchProblem = tjbench.Problem,
        };
        return parsed.Minutes > 0 ? await WatchMemoryAsync(report, parsed, files, progress, cancellationToken) : report;
    }

    private static async Task<BenchReport> WatchMemoryAsync(BenchReport report, BenchArguments parsed,
        IReadOnlyList<string> files, TextWriter progress, CancellationToken cancellationToken)
    {
        // The first size is the main one (224 by default): the largest buffers, so the clearest sign of a leak.
        int size = parsed.Sizes[0];
        await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"dfc bench: {parsed.Minutes} min of {parsed.Recipe} at {size}, resident memory every 10 s"));
        IReadOnlyList<MemorySample> samples = await MemoryWatch.RunAsync(files, Options(parsed, size),
            new DecodeOptions(), parsed.Workers, TimeSpan.FromMinutes(parsed.Minutes), MemoryInterval,
            cancellationToken);
        return samples.Count < 3
            ? report
            : report with { Memory = MemoryVerdict.Judge(samples), MemorySize = size, MemorySamples = samples };
    }

    private static AugmentOptions Options(BenchArguments parsed, int size) =>
        new() { ImageSize = size, Recipe = parsed.Recipe };

    private sealed record BenchArguments(IReadOnlyList<string> Images, int Workers, int Passes,
        IReadOnlyList<int> Sizes, string Recipe, bool Json, double Minutes, int TjbenchFiles = int.MaxValue)
    {
        public static BenchArguments Parse(string[] args)
        {
            if (args.Length == 0 || args[0] != "augment")
            {
                throw new ArgumentException("what to measure is missing: the only benchmark is 'augment'");
            }
            var images = new List<string>();
            var parsed = new BenchArguments([], Environment.ProcessorCount, 3, [224, 96], "simclr", false, 0);
            for (int i = 1; i < args.Length; i++)
            {
                parsed = args[i] switch
                {
                    "--images" => AddImages(args, ref i, images, parsed),
                    "--workers" => parsed with { Workers = CommandArguments.Number(args, ref i,
                        PipelineLimits.MinWorkers, PipelineLimits.MaxWorkers) },
                    "--passes" => parsed with { Passes = CommandArguments.Number(args, ref i, min: 1) },
                    "--sizes" => parsed with { Sizes = ParseSizes(args, ref i) },
                    "--recipe" => parsed with { Recipe = ParseRecipe(args, ref i) },
                    "--json" => parsed with { Json = true },
                    "--minutes" => parsed with { Minutes = ParseMinutes(args, ref i) },
                    "--tjbench-files" => parsed with { TjbenchFiles = CommandArguments.Number(args, ref i, min: 1) },
                    string other => throw new ArgumentException($"unknown argument '{other}'"),
                };
            }
            return parsed with { Images = images };
        }

        // --images takes every following argument up to the next option, so that a shell glob can expand.
        private static BenchArguments AddImages(string[] args, ref int i, List<string> images,
            BenchArguments parsed)
        {
            int first = i + 1;
            while (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                images.Add(args[++i]);
            }
            return i >= first ? parsed : throw new ArgumentException("--images needs a folder, file or glob");
        }


        private static IReadOnlyList<int> ParseSizes(string[] args, ref int i)
        {
            string text = CommandArguments.Value(args, ref i);
            string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
            return parts.All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int n)
                    && n is >= 1 and <= 4096)
                ? [.. parts.Select(p => int.Parse(p, CultureInfo.InvariantCulture)).Distinct()]
                : throw new ArgumentException($"--sizes must be sides from 1 to 4096 split by commas, was '{text}'");
        }

        private static string ParseRecipe(string[] args, ref int i)
        {
            string text = CommandArguments.Value(args, ref i);
            return text == "simclr"
                ? text
                : throw new ArgumentException($"--recipe must be simclr (the only recipe the peer has), was '{text}'");
        }

        private static double ParseMinutes(string[] args, ref int i)
        {
            string text = CommandArguments.Value(args, ref i);
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double m)
                && m is >= 0 and <= 24 * 60
                ? m
                : throw new ArgumentException($"--minutes must be a number from 0 to 1440, was '{text}'");
        }
    }
}
