using System.Buffers;
using System.Runtime.CompilerServices;
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
    public static void Apply(Span<byte> rgba, int width, int height, int kernelSize, float sigma)
    {
        float[] kernel = Kernel(kernelSize, sigma);
        int radius = kernelSize / 2;
        Vector128<float>[] rows = ArrayPool<Vector128<float>>.Shared.Rent(width * height);
        try
        {
            for (int y = 0; y < height; y++)
            {
                ReadOnlySpan<byte> row = rgba.Slice(y * width * 4, width * 4);
                Span<Vector128<float>> output = rows.AsSpan(y * width, width);
                for (int x = 0; x < width; x++)
                {
                    Vector128<float> sum = Vector128<float>.Zero;
                    for (int k = 0; k < kernelSize; k++)
                    {
                        int i = Reflect(x + k - radius, width) * 4;
                        sum += ToFloats(Unsafe.ReadUnaligned<uint>(ref Unsafe.AsRef(in row[i]))) * kernel[k];
                    }
                    output[x] = sum;
                }
            }
            for (int y = 0; y < height; y++)
            {
                Span<byte> target = rgba.Slice(y * width * 4, width * 4);
                for (int x = 0; x < width; x++)
                {
                    Vector128<float> sum = Vector128<float>.Zero;
                    for (int k = 0; k < kernelSize; k++)
                    {
                        sum += rows[(Reflect(y + k - radius, height) * width) + x] * kernel[k];
                    }
                    Vector128<int> v = Vector128.ConvertToInt32(Vector128.Round(sum));
                    v = Vector128.Clamp(v, Vector128<int>.Zero, Vector128.Create(255));
                    target[x * 4] = (byte)v[0];
                    target[(x * 4) + 1] = (byte)v[1];
                    target[(x * 4) + 2] = (byte)v[2];
                }
            }
        }
        finally
        {
            ArrayPool<Vector128<float>>.Shared.Return(rows);
        }
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
