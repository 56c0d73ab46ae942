using System.Globalization;
using System.Text;
using System.Text.Json;

namespace DataflowContrastive.Host.Benchmarking;

/// <summary>What <c>dfc bench augment</c> measured, with the ratios to the targets.</summary>
public sealed record BenchReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    /// <summary>The processor and the load on the machine when the run started, in words.</summary>
    public required string Machine { get; init; }

    /// <summary>Cores the machine has.</summary>
    public required int Cores { get; init; }

    /// <summary>Images processed at once by us, and DataLoader worker processes of the peer.</summary>
    public required int Workers { get; init; }

    /// <summary>Timed passes over the files, after one untimed warm-up pass.</summary>
    public required int Passes { get; init; }

    /// <summary>Augmentation recipe.</summary>
    public required string Recipe { get; init; }

    /// <summary>Where the images came from, as given.</summary>
    public required string Source { get; init; }

    /// <summary>Image files in one pass.</summary>
    public required int Files { get; init; }

    /// <summary>Whether the system's TurboJPEG library could be loaded (our JPEG decoder prefers it).</summary>
    public required bool TurboJpeg { get; init; }

    /// <summary>Our throughput at each size.</summary>
    public required IReadOnlyList<OursFigure> Ours { get; init; }

    /// <summary>The peer's throughput at each size it could be run at.</summary>
    public IReadOnlyList<PeerResult> Peer { get; init; } = [];

    /// <summary>Why the peer could not be measured (what to install, or how it failed); null when it was.</summary>
    public string? PeerProblem { get; init; }

    /// <summary>tjbench's decode rate; null when it could not be measured.</summary>
    public TjbenchFigure? Tjbench { get; init; }

    /// <summary>Why tjbench could not be measured; null when it was.</summary>
    public string? TjbenchProblem { get; init; }

    /// <summary>The long run's memory verdict; null when none was asked for.</summary>
    public MemoryVerdict? Memory { get; init; }

    /// <summary>Output side of the long run.</summary>
    public int MemorySize { get; init; }

    /// <summary>The long run's memory samples.</summary>
    public IReadOnlyList<MemorySample> MemorySamples { get; init; } = [];

    /// <summary>The ratios and whether each reaches its target.</summary>
    public IReadOnlyList<BenchTarget> Targets => BenchTarget.For(Ours, Peer, Tjbench);

    /// <summary>The report as a table and sentences for people.</summary>
    public string ToText()
    {
        var text = new StringBuilder();
        text.AppendLine(Inv, $"dfc bench augment: recipe {Recipe}, {Files} images from {Source}")
            .Append(Inv, $"{Workers} workers on {Cores} cores, {Passes} timed passes after one warm-up pass, ")
            .AppendLine("the same files for every measure")
            .AppendLine(Inv, $"machine: {Machine}")
            .AppendLine(Inv, $"JPEG decoder: {(TurboJpeg ? "the system's libturbojpeg" : "Skia's own")}")
            .AppendLine()
            .AppendLine(Inv, $"{"",-46}{"images/s",10}{"per core",10}{"per CPU-s",11}{"CPU busy",10}");
        foreach (OursFigure ours in Ours)
        {
            Row(text, $"ours: decode + {Recipe} at {ours.Size}", ours.ImagesPerSecond, ours.ImagesPerSecondPerCore,
                ours.ImagesPerCpuSecond, ours.CpuShare);
        }
        foreach (PeerResult peer in Peer)
        {
            Row(text, $"torchvision DataLoader at {peer.Size}", peer.ImagesPerSecond,
                peer.ImagesPerSecond / Math.Min(peer.Workers, Cores), peer.ImagesPerCpuSecond, peer.CpuShare);
        }
        if (Tjbench is { } tj)
        {
            Row(text, $"tjbench full-size decode, 1 core, {tj.Files.Count} JPEGs", tj.ImagesPerSecond,
                tj.ImagesPerSecond, tj.ImagesPerCpuSecond, tj.CpuShare);
        }
        text.AppendLine("(per core: over the cores used; per CPU-s: over the CPU time the whole measure used, start-up")
            .AppendLine(" and warm-up included; CPU busy: CPU seconds per wall second, lower when others take cores)");
        Problem(text, "torchvision", PeerProblem);
        Problem(text, "tjbench", TjbenchProblem);
        text.AppendLine();
        foreach (BenchTarget target in Targets)
        {
            text.AppendLine(target.ToString());
        }
        AppendMemory(text);
        return text.ToString();
    }

    /// <summary>The same figures as JSON, for machines.</summary>
    public string ToJson()
    {
        var json = new
        {
            Recipe, Source, Files, Passes, Workers, Cores, Machine, TurboJpeg,
            Ours = Ours.Select(o => new
            {
                o.Size, o.Images, o.Rejected, o.Seconds, o.ImagesPerSecond, o.ImagesPerSecondPerCore, o.CpuShare,
                o.ImagesPerCpuSecond,
            }),
            Peer = Peer.Select(p => new
            {
                p.Size, p.Workers, p.Images, p.Seconds, p.ImagesPerSecond, p.CpuShare, p.ImagesPerCpuSecond,
            }),
            PeerProblem,
            Tjbench = Tjbench is { } tj
                ? new { tj.Files, tj.Decodes, tj.ImagesPerSecond, tj.MegapixelsPerSecond, tj.CpuShare,
                    tj.ImagesPerCpuSecond }
                : null,
            TjbenchProblem,
            Targets = Targets.Select(t => new { t.Name, t.Size, t.Ratio, t.Goal, t.Met, t.CpuRatio }),
            Memory = Memory is { } m
                ? new
                {
                    Size = MemorySize, m.First, m.Last, m.MaxBytes, m.WarmupSeconds, m.WindowSeconds,
                    m.BaselineMaxBytes, m.FinalMaxBytes, m.Drift, Threshold = MemoryVerdict.Threshold, m.Flat,
                    Samples = MemorySamples,
                }
                : null,
        };
        return JsonSerializer.Serialize(json, JsonOptions);
    }

    private void AppendMemory(StringBuilder text)
    {
        if (Memory is not { } m)
        {
            return;
        }
        double minutes = (m.Last.Seconds - m.First.Seconds) / 60;
        text.AppendLine()
            .Append(Inv, $"resident memory over {minutes:0.#} min of {Recipe} at {MemorySize}, ")
            .Append(Inv, $"{MemorySamples.Count} samples: first {Mb(m.First.Bytes)}, last {Mb(m.Last.Bytes)}, ")
            .AppendLine(Inv, $"max {Mb(m.MaxBytes)}")
            .Append(Inv, $"peak after warm-up ({m.WarmupSeconds:0}-{m.WarmupSeconds + m.WindowSeconds:0} s) ")
            .Append(Inv, $"{Mb(m.BaselineMaxBytes)}, peak of the last {m.WindowSeconds:0} s {Mb(m.FinalMaxBytes)}: ")
            .AppendLine(Inv, $"drift {m.Drift:+0.0%;-0.0%}, {(m.Flat ? "flat" : "NOT flat")} (threshold +5 %)");
    }

    private static string Mb(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0} MiB");

    private static void Row(StringBuilder text, string name, double rate, double perCore, double? perCpuSecond,
        double? busy) =>
        text.AppendLine(Inv, $"{name,-46}{rate,10:0.0}{perCore,10:0.0}{perCpuSecond,11:0.0}{busy,10:0.00}");

    private static void Problem(StringBuilder text, string name, string? problem)
    {
        if (problem is not null)
        {
            text.AppendLine(Inv, $"{name} not measured: {problem}");
        }
    }
}
