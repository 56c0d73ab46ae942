namespace DataflowContrastive.Augment;

/// <summary>
/// torchvision's <c>ToTensor</c> then <c>Normalize</c> as a lookup table: (v / 255 - mean) / std in float32, the
/// same operations in the same order, so equal bytes give bit-equal floats.
/// </summary>
internal sealed class Normalizer
{
    private readonly float[] _table = new float[3 * 256];

    public Normalizer(float[] mean, float[] std)
    {
        for (int c = 0; c < 3; c++)
        {
            for (int v = 0; v < 256; v++)
            {
                float unit = v / 255f;
                _table[(c * 256) + v] = (unit - mean[c]) / std[c];
            }
        }
    }

    /// <summary>
    /// Writes packed RGBA <paramref name="rgba"/> (side × side) as CHW floats, mirrored left to right when
    /// <paramref name="flip"/>.
    /// </summary>
    public void Write(ReadOnlySpan<byte> rgba, int side, bool flip, Span<float> destination)
    {
        int plane = side * side;
        ReadOnlySpan<float> red = _table.AsSpan(0, 256);
        ReadOnlySpan<float> green = _table.AsSpan(256, 256);
        ReadOnlySpan<float> blue = _table.AsSpan(512, 256);
        Span<float> r = destination[..plane];
        Span<float> g = destination.Slice(plane, plane);
        Span<float> b = destination.Slice(2 * plane, plane);
        for (int y = 0; y < side; y++)
        {
            ReadOnlySpan<byte> row = rgba.Slice(y * side * 4, side * 4);
            int o = y * side;
            for (int x = 0; x < side; x++)
            {
                int i = (flip ? side - 1 - x : x) * 4;
                r[o + x] = red[row[i]];
                g[o + x] = green[row[i + 1]];
                b[o + x] = blue[row[i + 2]];
            }
        }
    }
}
