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
        for (int i = 0; i < rgba.Length; i += 4)
        {
            (byte h, byte s, byte v) = ToHsv(rgba[i], rgba[i + 1], rgba[i + 2]);
            (rgba[i], rgba[i + 1], rgba[i + 2]) = ToRgb(unchecked((byte)(h + delta)), s, v);
        }
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
