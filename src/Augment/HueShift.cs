using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DataflowContrastive.Augment;

/// <summary>
/// Pillow's RGB to HSV and back, byte for byte, with the hue byte shifted in between; this is what torchvision's
/// <c>adjust_hue</c> does to a PIL image. Skia's HSLA matrices work in HSL floats and would not match.
/// </summary>
internal static class HueShift
{
    /// <summary>numpy's <c>np.uint8(hue_factor * 255)</c>: truncated toward zero, then wrapped to a byte.</summary>
    public static byte Delta(double hueFactor) => unchecked((byte)(int)(hueFactor * 255.0));

    public static void Apply(Span<byte> rgba, byte delta)
    {
        int i = 0;
        if (Avx.IsSupported && Sse41.IsSupported)
        {
            ref byte start = ref MemoryMarshal.GetReference(rgba);
            for (; i + 16 <= rgba.Length; i += 16)
            {
                ref byte at = ref Unsafe.Add(ref start, i);
                Unsafe.WriteUnaligned(ref at, ShiftFour(Unsafe.ReadUnaligned<Vector128<int>>(ref at), delta));
            }
        }
        for (; i < rgba.Length; i += 4)
        {
            (byte h, byte s, byte v) = ToHsv(rgba[i], rgba[i + 1], rgba[i + 2]);
            (rgba[i], rgba[i + 1], rgba[i + 2]) = ToRgb(unchecked((byte)(h + delta)), s, v);
        }
    }

    /// <summary>
    /// <see cref="ToHsv"/>, the shift and <see cref="ToRgb"/> for four pixels at once, with the same float and
    /// double operations in the same order, so every byte is the same as the scalar code's.
    /// </summary>
    private static Vector128<int> ShiftFour(Vector128<int> pixels, byte delta)
    {
        Vector128<int> bytes = Vector128.Create(0xFF);
        Vector128<int> r = pixels & bytes;
        Vector128<int> g = Vector128.ShiftRightLogical(pixels, 8) & bytes;
        Vector128<int> b = Vector128.ShiftRightLogical(pixels, 16) & bytes;
        Vector128<int> max = Vector128.Max(r, Vector128.Max(g, b));
        Vector128<int> min = Vector128.Min(r, Vector128.Min(g, b));
        Vector128<float> range = Vector128.ConvertToSingle(max - min);

        Vector128<float> rc = Vector128.ConvertToSingle(max - r) / range;
        Vector128<float> gc = Vector128.ConvertToSingle(max - g) / range;
        Vector128<float> bc = Vector128.ConvertToSingle(max - b) / range;
        Vector128<float> fromGreen = Avx.ConvertToVector128Single(
            Vector256.Create(2.0) + Avx.ConvertToVector256Double(rc) - Avx.ConvertToVector256Double(bc));
        Vector128<float> fromBlue = Avx.ConvertToVector128Single(
            Vector256.Create(4.0) + Avx.ConvertToVector256Double(gc) - Avx.ConvertToVector256Double(rc));
        Vector128<float> h = Vector128.ConditionalSelect(Vector128.Equals(r, max).AsSingle(), bc - gc,
            Vector128.ConditionalSelect(Vector128.Equals(g, max).AsSingle(), fromGreen, fromBlue));
        Vector256<double> turns = (Avx.ConvertToVector256Double(h) / 6.0) + Vector256.Create(1.0);
        turns = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(turns, Vector256.Create(1.0)),
            turns - Vector256.Create(1.0), turns);
        Vector128<int> hue = ToByte(Avx.ConvertToVector128Single(turns));
        Vector128<int> saturation = ToByte(range / Vector128.ConvertToSingle(max));

        // A gray pixel has hue and saturation 0; its lanes above divided by zero and are dropped here.
        Vector128<int> gray = Vector128.Equals(max, min);
        hue = Vector128.AndNot(hue, gray);
        saturation = Vector128.AndNot(saturation, gray);
        hue = (hue + Vector128.Create((int)delta)) & bytes;
        return ToRgbFour(hue, saturation, max) | (pixels & Vector128.Create(unchecked((int)0xFF000000)));
    }

    /// <summary><see cref="ToRgb"/> for four pixels; the result's alpha byte is zero.</summary>
    private static Vector128<int> ToRgbFour(Vector128<int> h, Vector128<int> s, Vector128<int> v)
    {
        Vector256<double> x = Avx.ConvertToVector256Double(h) * 6.0 / 255.0;
        Vector256<double> whole = Vector256.Floor(x);
        Vector128<float> f = Avx.ConvertToVector128Single(x - whole);
        Vector128<int> sector = Avx.ConvertToVector128Int32WithTruncation(whole);
        sector = Vector128.ConditionalSelect(Vector128.Equals(sector, Vector128.Create(6)), Vector128<int>.Zero,
            sector);
        Vector128<float> fs = Avx.ConvertToVector128Single(Avx.ConvertToVector256Double(s) / 255.0);
        Vector256<double> fsWide = Avx.ConvertToVector256Double(fs);
        Vector256<double> value = Avx.ConvertToVector256Double(v);
        Vector256<double> one = Vector256.Create(1.0);
        Vector128<int> p = RoundClip(value * (one - fsWide));
        Vector128<int> q = RoundClip(value * (one - Avx.ConvertToVector256Double(fs * f)));
        Vector128<int> t = RoundClip(value * (one - (fsWide * (one - Avx.ConvertToVector256Double(f)))));

        Vector128<int> red = BySector(sector, v, q, p, p, t, v);
        Vector128<int> green = BySector(sector, t, v, v, q, p, p);
        Vector128<int> blue = BySector(sector, p, p, t, v, v, q);
        Vector128<int> rgb = red | Vector128.ShiftLeft(green, 8) | Vector128.ShiftLeft(blue, 16);
        Vector128<int> gray = v | Vector128.ShiftLeft(v, 8) | Vector128.ShiftLeft(v, 16);
        return Vector128.ConditionalSelect(Vector128.Equals(s, Vector128<int>.Zero), gray, rgb);
    }

    private static Vector128<int> BySector(Vector128<int> sector, Vector128<int> s0, Vector128<int> s1,
        Vector128<int> s2, Vector128<int> s3, Vector128<int> s4, Vector128<int> s5)
    {
        Vector128<int> result = s5;
        result = Vector128.ConditionalSelect(Vector128.Equals(sector, Vector128.Create(4)), s4, result);
        result = Vector128.ConditionalSelect(Vector128.Equals(sector, Vector128.Create(3)), s3, result);
        result = Vector128.ConditionalSelect(Vector128.Equals(sector, Vector128.Create(2)), s2, result);
        result = Vector128.ConditionalSelect(Vector128.Equals(sector, Vector128.Create(1)), s1, result);
        return Vector128.ConditionalSelect(Vector128.Equals(sector, Vector128<int>.Zero), s0, result);
    }

    /// <summary>(int)(x * 255.0) in double for a float fraction, clipped to a byte.</summary>
    private static Vector128<int> ToByte(Vector128<float> fraction) => Vector128.Clamp(
        Avx.ConvertToVector128Int32WithTruncation(Avx.ConvertToVector256Double(fraction) * 255.0),
        Vector128<int>.Zero, Vector128.Create(255));

    /// <summary><see cref="RoundClip(double)"/> for four lanes.</summary>
    private static Vector128<int> RoundClip(Vector256<double> x)
    {
        Vector256<double> whole = Vector256.Floor(x);
        Vector256<double> up = Vector256.GreaterThanOrEqual(x - whole, Vector256.Create(0.5));
        whole += up & Vector256.Create(1.0);
        return Vector128.Clamp(Avx.ConvertToVector128Int32WithTruncation(whole), Vector128<int>.Zero,
            Vector128.Create(255));
    }

    /// <summary>Pillow's <c>rgb2hsv_row</c>: float ratios, double where its C code has double literals.</summary>
    private static (byte H, byte S, byte V) ToHsv(byte r, byte g, byte b)
    {
        byte max = Math.Max(r, Math.Max(g, b));
        byte min = Math.Min(r, Math.Min(g, b));
        if (max == min)
        {
            return (0, 0, max);
        }

        float range = max - min;
        float s = range / max;
        float rc = (max - r) / range;
        float gc = (max - g) / range;
        float bc = (max - b) / range;
        float h = r == max ? bc - gc : g == max ? (float)(2.0 + rc - bc) : (float)(4.0 + gc - rc);
        // Pillow's fmod(h / 6 + 1, 1): h is in [-1, 5], so one conditional subtraction is the same value, exactly.
        double turns = (h / 6.0) + 1.0;
        h = (float)(turns >= 1.0 ? turns - 1.0 : turns);
        return (Clip((int)(h * 255.0)), Clip((int)(s * 255.0)), max);
    }

    /// <summary>Pillow's <c>hsv2rgb</c>: sector from the hue byte, C's round (halves away from zero).</summary>
    private static (byte R, byte G, byte B) ToRgb(byte h, byte s, byte v)
    {
        if (s == 0)
        {
            return (v, v, v);
        }

        // Sector and fraction depend on the hue byte only, the saturation fraction on the saturation byte only:
        // small tables holding the very floats Pillow computes.
        (int sector, float f) = HueTable[h];
        float fs = SaturationTable[s];
        byte p = RoundClip(v * (1.0 - fs));
        byte q = RoundClip(v * (1.0 - (fs * f)));
        byte t = RoundClip(v * (1.0 - (fs * (1.0 - f))));
        return sector switch
        {
            0 => (v, t, p),
            1 => (q, v, p),
            2 => (p, v, t),
            3 => (p, q, v),
            4 => (t, p, v),
            _ => (v, p, q),
        };
    }

    private static readonly (int Sector, float Fraction)[] HueTable = [.. Enumerable.Range(0, 256).Select(h =>
    {
        int i = (int)Math.Floor((float)h * 6.0 / 255.0);
        return (i % 6, (float)(((float)h * 6.0 / 255.0) - (float)i));
    })];

    private static readonly float[] SaturationTable = [.. Enumerable.Range(0, 256).Select(s => (float)(s / 255.0))];

    private static byte Clip(int x) => (byte)Math.Clamp(x, 0, 255);

    /// <summary>
    /// C's <c>round</c> (halves away from zero) for the non-negative products here, then clipped; x - floor(x) is
    /// exact, so this equals round(x) without Math.Round's slower general path.
    /// </summary>
    private static byte RoundClip(double x)
    {
        double whole = Math.Floor(x);
        return Clip((int)(x - whole >= 0.5 ? whole + 1 : whole));
    }
}
