using System.Globalization;

namespace DataflowContrastive.Host.Benchmarking;

/// <summary>One ratio of the benchmark and the value it is meant to reach.</summary>
/// <param name="Name">What is compared, in words.</param>
/// <param name="Size">Output side the ratio is about.</param>
/// <param name="Ratio">The measured ratio; null when the other side could not be measured.</param>
/// <param name="Goal">The ratio that meets the target.</param>
public sealed record BenchTarget(string Name, int Size, double? Ratio, double Goal)
{
    /// <summary>True when the ratio was measured and reaches the goal; false otherwise.</summary>
    public bool Met => Ratio >= Goal;

    /// <summary>
    /// The targets, per size of <paramref name="ours"/>: ours over the peer (goal 2), and ours per core over
    /// tjbench's single-core full-size decode rate (goal 1). A side that was not measured gives a null ratio.
    /// </summary>
    public static IReadOnlyList<BenchTarget> For(IReadOnlyList<OursFigure> ours, IReadOnlyList<PeerResult> peer,
        double? tjbenchImagesPerSecond)
    {
        ArgumentNullException.ThrowIfNull(ours);
        ArgumentNullException.ThrowIfNull(peer);
        var targets = new List<BenchTarget>();
        foreach (OursFigure figure in ours)
        {
            double? peerRate = peer.FirstOrDefault(p => p.Size == figure.Size)?.ImagesPerSecond;
            targets.Add(new BenchTarget("ours / torchvision", figure.Size, figure.ImagesPerSecond / peerRate, 2));
        }
        foreach (OursFigure figure in ours)
        {
            targets.Add(new BenchTarget("ours per core / tjbench full-size decode", figure.Size,
                figure.ImagesPerSecondPerCore / tjbenchImagesPerSecond, 1));
        }
        return targets;
    }

    /// <inheritdoc />
    public override string ToString()
    {
        string ratio = Ratio is double r ? r.ToString("0.00", CultureInfo.InvariantCulture) : "not measured";
        string verdict = Ratio is null ? "not measured" : Met ? "met" : "not met";
        return string.Create(CultureInfo.InvariantCulture,
            $"{Name} at {Size}: {ratio} (target >= {Goal:0.#}: {verdict})");
    }
}
