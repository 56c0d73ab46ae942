using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DataflowContrastive.Augment;

/// <summary>
/// torchvision's <c>gaussian_blur</c>: a kernel of exactly <c>kernelSize</c> taps (the Gaussian cut there and
/// renormalised), reflect padding without repeating the edge pixel, float sums, round half to even. Skia's blur
/// filter sizes its own kernel from sigma and mirrors with the edge repeated, which moved values by up to tens of
/// levels against torchvision, so the blur is computed here: separable, four channels per vector.
/// </summary>
internal static class Blur
{
    /// <summary>
    /// Taps lighter than this are left out at both ends of the kernel: together they move a value by less than a
    /// thousandth of a level, so only a value that lands that close to a rounding boundary can change, by one level.
    /// </summary>
    private const float NegligibleWeight = 1e-7f;

    public static void Apply(Span<byte> rgba, int width, int height, int kernelSize, float sigma)
    {
        float[] full = Kernel(kernelSize, sigma);
        int trim = Trim(full);
        ReadOnlySpan<float> kernel = full.AsSpan(trim, full.Length - (2 * trim));
        int[] columns = ReflectMap(width, kernelSize);
        int[] rows = ReflectMap(height, kernelSize);
        Vector128<float>[] across = ArrayPool<Vector128<float>>.Shared.Rent(width * height);
        Vector128<float>[] padded = ArrayPool<Vector128<float>>.Shared.Rent(width + kernelSize);
        try
        {
            for (int y = 0; y < height; y++)
            {
                HorizontalRow(rgba.Slice(y * width * 4, width * 4), kernel,
                    columns.AsSpan(trim, width + kernel.Length - 1), padded, across.AsSpan(y * width, width));
            }

            // Down the columns a whole row at a time, so the inner loop walks memory in order; the padded row's
            // scratch now holds the sums.
            Span<Vector128<float>> sum = padded.AsSpan(0, width);
            for (int y = 0; y < height; y++)
            {
                sum.Clear();
                for (int k = 0; k < kernel.Length; k++)
                {
                    AddScaled(across.AsSpan(rows[y + trim + k] * width, width), kernel[k], sum);
                }
                StoreRow(sum, rgba.Slice(y * width * 4, width * 4));
            }
        }
        finally
        {
            ArrayPool<Vector128<float>>.Shared.Return(across);
            ArrayPool<Vector128<float>>.Shared.Return(padded);
        }
    }

    /// <summary>How many taps at each end of the symmetric kernel weigh less than the negligible weight.</summary>
    private static int Trim(float[] kernel)
    {
        int trim = 0;
        while (trim < kernel.Length / 2 && kernel[trim] < NegligibleWeight)
        {
            trim++;
        }
        return trim;
    }

    private static void HorizontalRow(ReadOnlySpan<byte> row, ReadOnlySpan<float> kernel, ReadOnlySpan<int> columns,
        Vector128<float>[] padded, Span<Vector128<float>> output)
    {
        // Widen the row, reflected at both ends, to floats once, not once per tap.
        ref byte start = ref MemoryMarshal.GetReference(row);
        for (int j = 0; j < columns.Length; j++)
        {
            padded[j] = ToFloats(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref start, columns[j] * 4)));
        }

        // Two neighbouring outputs at once: their taps are neighbouring pairs of the padded row. The kernel is
        // symmetric, so pixels at equal distance share a weight and one multiplication.
        int radius = kernel.Length / 2;
        ref Vector128<float> first = ref MemoryMarshal.GetArrayDataReference(padded);
        int x = 0;
        for (; x + 2 <= output.Length; x += 2)
        {
            ref Vector128<float> at = ref Unsafe.Add(ref first, x);
            Vector256<float> sum = Pair(ref at, radius) * kernel[radius];
            for (int k = 0; k < radius; k++)
            {
                sum += (Pair(ref at, k) + Pair(ref at, kernel.Length - 1 - k)) * kernel[k];
            }
            Unsafe.WriteUnaligned(ref Unsafe.As<Vector128<float>, byte>(ref output[x]), sum);
        }
        for (; x < output.Length; x++)
        {
            Vector128<float> sum = padded[x + radius] * kernel[radius];
            for (int k = 0; k < radius; k++)
            {
                sum += (padded[x + k] + padded[x + kernel.Length - 1 - k]) * kernel[k];
            }
            output[x] = sum;
        }
    }

    private static Vector256<float> Pair(ref Vector128<float> at, int offset) =>
        Unsafe.ReadUnaligned<Vector256<float>>(ref Unsafe.As<Vector128<float>, byte>(ref Unsafe.Add(ref at, offset)));

    /// <summary>sum += source * weight, as wide as the machine's vectors go.</summary>
    private static void AddScaled(ReadOnlySpan<Vector128<float>> source, float weight, Span<Vector128<float>> sum)
    {
        ReadOnlySpan<float> from = MemoryMarshal.Cast<Vector128<float>, float>(source);
        Span<float> to = MemoryMarshal.Cast<Vector128<float>, float>(sum);
        ReadOnlySpan<Vector<float>> wideFrom = MemoryMarshal.Cast<float, Vector<float>>(from);
        Span<Vector<float>> wideTo = MemoryMarshal.Cast<float, Vector<float>>(to);
        Vector<float> w = new(weight);
        for (int i = 0; i < wideTo.Length; i++)
        {
            wideTo[i] += wideFrom[i] * w;
        }
        for (int i = wideTo.Length * Vector<float>.Count; i < to.Length; i++)
        {
            to[i] += from[i] * weight;
        }
    }

    /// <summary>torch.round (half to even), then the three colour bytes; alpha stays.</summary>
    private static void StoreRow(ReadOnlySpan<Vector128<float>> sum, Span<byte> row)
    {
        for (int x = 0; x < sum.Length; x++)
        {
            Vector128<int> v = Vector128.ConvertToInt32(Vector128.Round(sum[x]));
            v = Vector128.Clamp(v, Vector128<int>.Zero, Vector128.Create(255));
            row[x * 4] = (byte)v[0];
            row[(x * 4) + 1] = (byte)v[1];
            row[(x * 4) + 2] = (byte)v[2];
        }
    }

    /// <summary>For padded position j (0 .. n + size - 2), the source index torch's reflect padding reads.</summary>
    private static int[] ReflectMap(int n, int size)
    {
        int radius = size / 2;
        int[] map = new int[n + size - 1];
        for (int j = 0; j < map.Length; j++)
        {
            map[j] = Reflect(j - radius, n);
        }
        return map;
    }

    /// <summary>torchvision's <c>_get_gaussian_kernel1d</c>, in float32 as torch computes it.</summary>
    private static float[] Kernel(int size, float sigma)
    {
        float[] k = new float[size];
        float half = (size - 1) * 0.5f;
        float total = 0;
        for (int i = 0; i < size; i++)
        {
            float x = (-half + i) / sigma;
            k[i] = MathF.Exp(-0.5f * x * x);
            total += k[i];
        }
        for (int i = 0; i < size; i++)
        {
            k[i] /= total;
        }
        return k;
    }

    /// <summary>torch's "reflect" index: -1 reads 1, n reads n - 2; repeated when the kernel is wider.</summary>
    private static int Reflect(int i, int n)
    {
        if (n == 1)
        {
            return 0;
        }
        while (i < 0 || i >= n)
        {
            i = i < 0 ? -i : (2 * (n - 1)) - i;
        }
        return i;
    }

    private static Vector128<float> ToFloats(uint rgba)
    {
        Vector128<byte> b = Vector128.CreateScalarUnsafe(rgba).AsByte();
        return Vector128.ConvertToSingle(Vector128.WidenLower(Vector128.WidenLower(b)).AsInt32());
    }
}
