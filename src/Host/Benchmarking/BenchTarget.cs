using System.Globalization;

namespace DataflowContrastive.Host.Benchmarking;

/// <summary>One ratio of the benchmark and the value it is meant to reach.</summary>
/// <param name="Name">What is compared, in words.</param>
/// <param name="Size">Output side the ratio is about.</param>
/// <param name="Ratio">The measured ratio; null when the other side could not be measured.</param>
/// <param name="Goal">The ratio that meets the target.</param>
/// <param name="CpuRatio">The same ratio of images per CPU-second, which other work on the machine does not
/// distort; null when unknown. Only <paramref name="Ratio"/> decides whether the target is met.</param>
public sealed record BenchTarget(string Name, int Size, double? Ratio, double Goal, double? CpuRatio = null)
{
    /// <summary>True when the ratio was measured and reaches the goal; false otherwise.</summary>
    public bool Met => Ratio >= Goal;

    /// <summary>
    /// The targets, per size of <paramref name="ours"/>: ours over the peer (goal 2), and ours per core over
    /// tjbench's single-core full-size decode rate (goal 1). A side that was not measured gives a null ratio.
    /// </summary>
    public static IReadOnlyList<BenchTarget> For(IReadOnlyList<OursFigure> ours, IReadOnlyList<PeerResult> peer,
        TjbenchFigure? tjbench)
    {
        ArgumentNullException.ThrowIfNull(ours);
        ArgumentNullException.ThrowIfNull(peer);
        var targets = new List<BenchTarget>();
        foreach (OursFigure figure in ours)
        {
            PeerResult? other = peer.FirstOrDefault(p => p.Size == figure.Size);
            targets.Add(new BenchTarget("ours / torchvision", figure.Size,
                figure.ImagesPerSecond / other?.ImagesPerSecond, 2,
                figure.ImagesPerCpuSecond / other?.ImagesPerCpuSecond));
        }
        foreach (OursFigure figure in ours)
        {
            targets.Add(new BenchTarget("ours per core / tjbench full-size decode", figure.Size,
                figure.ImagesPerSecondPerCore / tjbench?.ImagesPerSecond, 1,
                figure.ImagesPerCpuSecond / tjbench?.ImagesPerCpuSecond));
        }
        return targets;
    }

    /// <inheritdoc />
    public override string ToString()
    {
        string verdict = Ratio is null ? "not measured" : Met ? "met" : "not met";
        string ratio = Ratio is double r ? Floor(r) : "not measured";
        string cpu = CpuRatio is double c ? $"; per CPU-second {Floor(c)}" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"{Name} at {Size}: {ratio} (target >= {Goal:0.#}: {verdict}){cpu}");
    }

    // Rounded down, so that a ratio just under its goal never prints as the goal itself.
    private static string Floor(double ratio) =>
        (Math.Floor(ratio * 100) / 100).ToString("0.00", CultureInfo.InvariantCulture);
}
