using System.Globalization;

namespace DataflowContrastive.Host.Benchmarking;

/// <summary>One image that tjbench decoded: its size and its decompression rate.</summary>
/// <param name="Width">Image width in pixels.</param>
/// <param name="Height">Image height in pixels.</param>
/// <param name="MegapixelsPerSecond">Decompression rate, in millions of pixels per second, on one core.</param>
public sealed record TjbenchDecode(int Width, int Height, double MegapixelsPerSecond)
{
    /// <summary>Whole images decoded per second at full size.</summary>
    public double ImagesPerSecond => MegapixelsPerSecond * 1e6 / ((double)Width * Height);

    /// <summary>
    /// The rate at which a core decodes a set of images, each once: their count over the sum of the seconds each
    /// takes. Large images weigh by the time they cost, as they do in a real pass over the files.
    /// </summary>
    public static double CombinedImagesPerSecond(IReadOnlyCollection<TjbenchDecode> decodes)
    {
        ArgumentNullException.ThrowIfNull(decodes);
        ArgumentOutOfRangeException.ThrowIfZero(decodes.Count);
        return decodes.Count / decodes.Sum(d => 1 / d.ImagesPerSecond);
    }
}

/// <summary>Reads the table that <c>tjbench FILE.jpg -quiet</c> prints (libjpeg-turbo 2.x).</summary>
public static class TjbenchOutput
{
    /// <summary>
    /// Parses the first result row, under the header whose last column is <c>Decomp Perf</c>: the row ends with
    /// width, height, transform rate, compression ratio and decompression rate (Mpixels/s); the pixel format and
    /// the JPEG colour space and subsampling come before. Throws <see cref="FormatException"/> when there is none.
    /// </summary>
    public static TjbenchDecode Parse(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        string[] lines = output.Split('\n', StringSplitOptions.TrimEntries);
        int header = Array.FindIndex(lines, l => l.StartsWith("Format", StringComparison.Ordinal)
            && l.EndsWith("Perf", StringComparison.Ordinal));
        string? row = header < 0 ? null : lines.Skip(header + 1).FirstOrDefault(l => l.Length > 0);
        string[] cells = row?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];
        if (cells.Length < 6
            || !int.TryParse(cells[^5], NumberStyles.None, CultureInfo.InvariantCulture, out int width)
            || !int.TryParse(cells[^4], NumberStyles.None, CultureInfo.InvariantCulture, out int height)
            || !double.TryParse(cells[^1], NumberStyles.Float, CultureInfo.InvariantCulture, out double rate)
            || width == 0 || height == 0 || !(rate > 0))
        {
            throw new FormatException(
                $"tjbench printed no result row with width, height and decompression rate: '{Tail(output)}'");
        }
        return new TjbenchDecode(width, height, rate);
    }

    private static string Tail(string text) => text.Length <= 300 ? text.Trim() : text[^300..].Trim();
}
