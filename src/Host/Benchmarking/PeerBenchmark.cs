using System.Globalization;

namespace DataflowContrastive.Host.Benchmarking;

/// <summary>What running the peer gave: its results, or why there are none.</summary>
/// <param name="Results">One result per size measured.</param>
/// <param name="Problem">Why the peer could not be measured; null when it was.</param>
public sealed record PeerOutcome(IReadOnlyList<PeerResult> Results, string? Problem);

/// <summary>
/// Runs <c>bench/augment_peer.py</c>, the torchvision SimCLR pipeline in a PyTorch DataLoader, with Debian's
/// Python, on the same files and with as many worker processes as we use threads.
/// </summary>
public static class PeerBenchmark
{
    /// <summary>Debian's Python, which has the distribution's PyTorch, torchvision and Pillow.</summary>
    public const string Python = "/usr/bin/python3";

    /// <summary>The peer script, relative to the repository root.</summary>
    public const string Script = "bench/augment_peer.py";

    /// <summary>What to install when Debian's Python or its PyTorch is missing.</summary>
    public const string InstallHint =
        "the peer needs Debian's Python with PyTorch: apt-get install python3-torch python3-torchvision python3-pil";

    /// <summary>
    /// Measures the peer at each of <paramref name="sizes"/>; stops at the first size that fails and says why.
    /// <paramref name="repositoryRoot"/> is null when the command runs outside a checkout (no script to run).
    /// </summary>
    public static async Task<PeerOutcome> RunAsync(string? repositoryRoot, IReadOnlyList<string> files,
        IReadOnlyList<int> sizes, int workers, int passes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(sizes);
        string? script = repositoryRoot is null ? null : Path.Combine(repositoryRoot, Script);
        if (script is null || !File.Exists(script))
        {
            return new PeerOutcome([], $"{Script} not found: run dfc from inside the repository's checkout");
        }

        var results = new List<PeerResult>();
        foreach (int size in sizes)
        {
            string[] arguments = [script, "--size", Text(size), "--workers", Text(workers), "--passes", Text(passes),
                .. files];
            CpuShareClock cpu = CpuShareClock.ForChildren();
            ToolRun? run = await ToolProcess.RunAsync(Python, arguments, repositoryRoot!, cancellationToken);
            string? problem = ProblemOf(run);
            if (problem is not null)
            {
                return new PeerOutcome(results, problem);
            }
            try
            {
                results.Add(PeerResult.Parse(run!.Output) with { CpuShare = cpu.Share() });
            }
            catch (FormatException e)
            {
                return new PeerOutcome(results, e.Message);
            }
        }
        return new PeerOutcome(results, null);
    }

    /// <summary>Why a run of the peer gave no result, in words; null when it ran to a normal end.</summary>
    public static string? ProblemOf(ToolRun? run) => run switch
    {
        null => $"{Python} not found; {InstallHint}",
        { ExitCode: not 0 } when run.Error.Contains("No module named", StringComparison.Ordinal) =>
            $"{run.LastErrorLine}; {InstallHint}",
        { ExitCode: not 0 } => $"{Script} failed with exit code {run.ExitCode}: {run.LastErrorLine}",
        _ => null,
    };

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
