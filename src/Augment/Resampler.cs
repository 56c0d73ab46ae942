using System.Buffers;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DataflowContrastive.Augment;

/// <summary>Interpolation used when resizing, with the meaning Pillow (and so torchvision) gives it.</summary>
public enum ResampleFilter
{
    /// <summary>Triangle filter, support 1, widened by the scale factor when shrinking.</summary>
    Bilinear,

    /// <summary>Keys cubic, a = -0.5, support 2, widened by the scale factor when shrinking (open_clip's).</summary>
    Bicubic,
}

/// <summary>
/// Which part of the source is resized to what, and which part of the result is kept. A centre crop of a resize
/// is a window of the full resize; a resized crop is a box of the source.
/// </summary>
/// <param name="X0">Left of the source box, in source pixels (may be fractional).</param>
/// <param name="Y0">Top of the source box.</param>
/// <param name="X1">Right of the source box.</param>
/// <param name="Y1">Bottom of the source box.</param>
/// <param name="TotalWidth">Width the whole box is resized to.</param>
/// <param name="TotalHeight">Height the whole box is resized to.</param>
/// <param name="Left">First column of the resized box that is kept.</param>
/// <param name="Top">First row of the resized box that is kept.</param>
/// <param name="Width">Columns kept.</param>
/// <param name="Height">Rows kept.</param>
internal readonly record struct ResampleWindow(
    double X0, double Y0, double X1, double Y1, int TotalWidth, int TotalHeight, int Left, int Top, int Width,
    int Height);

/// <summary>
/// Separable convolution resize with Pillow's filters, support widening (antialiasing) and rounding: a horizontal
/// pass rounded to 8 bits, then a vertical pass, as Pillow's <c>Image.resize</c> does. Skia's cubic sampling does
/// not widen its kernel when shrinking, so it cannot stand in for torchvision's resize.
/// </summary>
internal static class Resampler
{
    /// <summary>Resizes opaque RGBA8888 <paramref name="source"/> into packed rows of <paramref name="target"/>.
    /// </summary>
    public static void Resample(PooledPixels source, in ResampleWindow window, ResampleFilter filter, Span<byte> target)
    {
        Debug.Assert(target.Length >= window.Width * window.Height * 4, "Target too small for the window.");
        Taps horizontal = Taps.Compute(source.Width, window.X0, window.X1, window.TotalWidth, window.Left,
            window.Width, filter);
        Taps vertical = Taps.Compute(source.Height, window.Y0, window.Y1, window.TotalHeight, window.Top,
            window.Height, filter);

        // Only the source rows that some output row reads go through the horizontal pass.
        int firstRow = vertical.Start[0];
        int lastRow = vertical.Start[window.Height - 1] + vertical.Count[window.Height - 1];
        int rowBytes = window.Width * 4;
        byte[] middle = ArrayPool<byte>.Shared.Rent((lastRow - firstRow) * rowBytes);
        try
        {
            ReadOnlySpan<byte> src = source.Span;
            for (int y = firstRow; y < lastRow; y++)
            {
                HorizontalRow(src.Slice(y * source.RowBytes, source.RowBytes), horizontal,
                    middle.AsSpan((y - firstRow) * rowBytes, rowBytes));
            }
            VerticalPass(middle.AsSpan(0, (lastRow - firstRow) * rowBytes), firstRow, rowBytes, vertical, target);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(middle);
        }
    }

    private static void HorizontalRow(ReadOnlySpan<byte> row, Taps taps, Span<byte> output)
    {
        ref byte rowStart = ref MemoryMarshal.GetReference(row);
        for (int x = 0; x < taps.Start.Length; x++)
        {
            ReadOnlySpan<float> weights = taps.WeightsOf(x);
            ref byte pixel = ref Unsafe.Add(ref rowStart, taps.Start[x] * 4);
            Vector128<float> sum = Vector128.Create(0.5f);
            for (int k = 0; k < weights.Length; k++)
            {
                Debug.Assert((taps.Start[x] + k) * 4 < row.Length, "Taps stay inside the row.");
                uint rgba = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref pixel, k * 4));
                sum += ToFloats(rgba) * weights[k];
            }
            Unsafe.WriteUnaligned(ref output[x * 4], ToBytes(sum));
        }
    }

    private static void VerticalPass(ReadOnlySpan<byte> middle, int firstRow, int rowBytes, Taps taps, Span<byte> dst)
    {
        float[] sums = ArrayPool<float>.Shared.Rent(rowBytes);
        try
        {
            Span<float> sum = sums.AsSpan(0, rowBytes);
            for (int y = 0; y < taps.Start.Length; y++)
            {
                sum.Fill(0.5f);
                ReadOnlySpan<float> weights = taps.WeightsOf(y);
                for (int k = 0; k < weights.Length; k++)
                {
                    int row = taps.Start[y] + k - firstRow;
                    Accumulate(middle.Slice(row * rowBytes, rowBytes), weights[k], sum);
                }
                Store(sum, dst.Slice(y * rowBytes, rowBytes));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(sums);
        }
    }

    /// <summary>sum[i] += weight * row[i], several bytes at a time.</summary>
    private static void Accumulate(ReadOnlySpan<byte> row, float weight, Span<float> sum)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            Vector<float> w = new(weight);
            ReadOnlySpan<Vector<byte>> bytes = MemoryMarshal.Cast<byte, Vector<byte>>(row);
            Span<Vector<float>> sums = MemoryMarshal.Cast<float, Vector<float>>(sum);
            for (int v = 0; v < bytes.Length; v++)
            {
                Vector.Widen(bytes[v], out Vector<ushort> low, out Vector<ushort> high);
                Vector.Widen(low, out Vector<uint> a, out Vector<uint> b);
                Vector.Widen(high, out Vector<uint> c, out Vector<uint> d);
                int s = v * 4;
                sums[s] += Vector.ConvertToSingle(a) * w;
                sums[s + 1] += Vector.ConvertToSingle(b) * w;
                sums[s + 2] += Vector.ConvertToSingle(c) * w;
                sums[s + 3] += Vector.ConvertToSingle(d) * w;
            }
            i = bytes.Length * Vector<byte>.Count;
        }
        for (; i < row.Length; i++)
        {
            sum[i] += row[i] * weight;
        }
    }

    private static void Store(ReadOnlySpan<float> sum, Span<byte> output)
    {
        for (int i = 0; i < sum.Length; i++)
        {
            // The sums carry +0.5 already, so truncation rounds half up as Pillow's fixed point does.
            output[i] = (byte)Math.Clamp((int)sum[i], 0, 255);
        }
    }

    private static Vector128<float> ToFloats(uint rgba)
    {
        Vector128<byte> b = Vector128.CreateScalarUnsafe(rgba).AsByte();
        return Vector128.ConvertToSingle(Vector128.WidenLower(Vector128.WidenLower(b)).AsInt32());
    }

    private static uint ToBytes(Vector128<float> sum)
    {
        Vector128<int> i = Vector128.Clamp(Vector128.ConvertToInt32(sum), Vector128<int>.Zero, Vector128.Create(255));
        return (uint)i[0] | ((uint)i[1] << 8) | ((uint)i[2] << 16) | ((uint)i[3] << 24);
    }

    /// <summary>For each kept output position: the first source index, how many are read, and their weights.</summary>
    private sealed class Taps
    {
        private readonly float[] _weights;
        private readonly int _stride;

        private Taps(int count, int stride)
        {
            Start = new int[count];
            Count = new int[count];
            _weights = new float[count * stride];
            _stride = stride;
        }

        public int[] Start { get; }

        public int[] Count { get; }

        public ReadOnlySpan<float> WeightsOf(int i) => _weights.AsSpan(i * _stride, Count[i]);

        /// <summary>
        /// Pillow's <c>precompute_coeffs</c>, for outputs offset..offset+count of outTotal. Taps are clamped to the
        /// whole pixels the box covers, not to the image: torchvision crops first and resizes the crop, so its
        /// filter never reads outside the crop.
        /// </summary>
        public static Taps Compute(
            int imageSize, double in0, double in1, int outTotal, int offset, int count, ResampleFilter filter)
        {
            int lo = Math.Max(0, (int)Math.Floor(in0));
            int inSize = Math.Min(imageSize, (int)Math.Ceiling(in1)) - lo;
            in0 -= lo;
            in1 -= lo;
            double support = filter == ResampleFilter.Bicubic ? 2.0 : 1.0;
            double scale = (in1 - in0) / outTotal;
            double filterScale = Math.Max(scale, 1.0);
            support *= filterScale;
            Taps taps = new(count, ((int)Math.Ceiling(support) * 2) + 1);
            Span<double> k = stackalloc double[taps._stride];

            for (int i = 0; i < count; i++)
            {
                double center = in0 + ((offset + i + 0.5) * scale);
                int min = Math.Max((int)(center - support + 0.5), 0);
                int n = Math.Min((int)(center + support + 0.5), inSize) - min;
                Debug.Assert(n > 0 && n <= taps._stride, "The window always holds at least one source pixel.");
                double total = 0;
                for (int x = 0; x < n; x++)
                {
                    k[x] = Kernel(filter, (x + min - center + 0.5) / filterScale);
                    total += k[x];
                }
                for (int x = 0; x < n; x++)
                {
                    taps._weights[(i * taps._stride) + x] = (float)(total != 0 ? k[x] / total : k[x]);
                }
                taps.Start[i] = lo + min;
                taps.Count[i] = n;
            }
            return taps;
        }

        private static double Kernel(ResampleFilter filter, double x)
        {
            x = Math.Abs(x);
            if (filter == ResampleFilter.Bilinear)
            {
                return x < 1 ? 1 - x : 0;
            }
            const double A = -0.5;
            if (x < 1)
            {
                return ((((A + 2) * x) - (A + 3)) * x * x) + 1;
            }
            return x < 2 ? ((((x - 5) * x) + 8) * x - 4) * A : 0;
        }
    }
}
