using System.Text.Json;

namespace DataflowContrastive.Host.Benchmarking;

/// <summary>What <c>bench/augment_peer.py</c> measured: the torchvision pipeline in a PyTorch DataLoader.</summary>
/// <param name="Size">Output side in pixels.</param>
/// <param name="Workers">DataLoader worker processes.</param>
/// <param name="Images">Images produced in the timed passes.</param>
/// <param name="Seconds">Wall time of the timed passes.</param>
public sealed record PeerResult(int Size, int Workers, int Images, double Seconds)
{
    /// <summary>Images per second of wall time.</summary>
    public double ImagesPerSecond => Images / Seconds;

    /// <summary>
    /// CPU seconds per wall second of the script's processes over their whole life (start-up, imports and the
    /// warm-up pass included); null when unknown.
    /// </summary>
    public double? CpuShare { get; init; }

    /// <summary>Images per second of CPU time: the wall rate over the average number of busy cores.</summary>
    public double? ImagesPerCpuSecond => CpuShare > 0 ? ImagesPerSecond / CpuShare : null;

    /// <summary>
    /// Parses the JSON object that the script prints as its last line of output (earlier lines may be warnings).
    /// Throws <see cref="FormatException"/> naming what is missing when there is no such object.
    /// </summary>
    public static PeerResult Parse(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        string last = output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .LastOrDefault() ?? "";
        try
        {
            using JsonDocument document = JsonDocument.Parse(last);
            JsonElement root = document.RootElement;
            var result = new PeerResult(root.GetProperty("size").GetInt32(), root.GetProperty("workers").GetInt32(),
                root.GetProperty("images").GetInt32(), root.GetProperty("seconds").GetDouble());
            return result is { Images: > 0, Seconds: > 0 }
                ? result
                : throw new FormatException($"the peer timed no images: '{last}'");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new FormatException($"the peer's last line is not its result JSON ({e.Message}): '{last}'", e);
        }
    }
}
