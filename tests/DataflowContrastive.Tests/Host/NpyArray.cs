using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace DataflowContrastive.Tests.Host;

/// <summary>A small, separate reader of <c>.npy</c> version 1 files, for checking what the exporter writes.</summary>
internal sealed partial record NpyArray(string Header, string Descr, long[] Shape, byte[] Data)
{
    public static NpyArray Read(string path) => Read(File.ReadAllBytes(path));

    public static NpyArray Read(byte[] bytes)
    {
        Assert.Equal("\u0093NUMPY", Encoding.Latin1.GetString(bytes, 0, 6));
        Assert.Equal(1, bytes[6]);
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        string header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        Assert.Equal(0, (10 + headerLength) % 64);
        Assert.Contains("'fortran_order': False", header, StringComparison.Ordinal);
        string descr = DescrPattern().Match(header).Groups[1].Value;
        long[] shape = [.. ShapePattern().Match(header).Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => long.Parse(d, CultureInfo.InvariantCulture))];
        return new NpyArray(header, descr, shape, bytes[(10 + headerLength)..]);
    }

    /// <summary>The values of a float16 array, widened to float.</summary>
    public float[] Float16()
    {
        Assert.Equal("<f2", Descr);
        var values = new float[Data.Length / 2];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(Data.AsSpan(i * 2));
        }
        return values;
    }

    [GeneratedRegex(@"'descr': '([^']+)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'shape': \(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
