using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace DataflowContrastive.Host.Export;

/// <summary>
/// Writes numpy's <c>.npy</c> format, version 1.0: the magic <c>\x93NUMPY</c>, the version bytes 1 and 0, a 2-byte
/// little-endian header length, an ASCII header (a Python dict literal with <c>descr</c>, <c>fortran_order</c> and
/// <c>shape</c>, padded with spaces and ended by a newline so the data starts at a multiple of 64 bytes), then the
/// values in C order, little-endian.
/// </summary>
public static class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0];

    /// <summary>Writes <paramref name="values"/> as float16 (<c>&lt;f2</c>) in the given shape.</summary>
    public static void WriteFloat16(Stream stream, ReadOnlySpan<float> values, params long[] shape)
    {
        WriteHeader(stream, "<f2", values.Length, shape);
        byte[] bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(i * 2), (Half)values[i]);
        }
        stream.Write(bytes);
    }

    /// <summary>Writes <paramref name="values"/> as float32 (<c>&lt;f4</c>) in the given shape.</summary>
    public static void WriteFloat32(Stream stream, ReadOnlySpan<float> values, params long[] shape)
    {
        WriteHeader(stream, "<f4", values.Length, shape);
        byte[] bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        }
        stream.Write(bytes);
    }

    /// <summary>Writes <paramref name="values"/> as int64 (<c>&lt;i8</c>) in the given shape.</summary>
    public static void WriteInt64(Stream stream, ReadOnlySpan<long> values, params long[] shape)
    {
        WriteHeader(stream, "<i8", values.Length, shape);
        byte[] bytes = new byte[values.Length * 8];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), values[i]);
        }
        stream.Write(bytes);
    }

    private static void WriteHeader(Stream stream, string descr, int count, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Aggregate(1L, (product, dimension) => product * dimension) != count)
        {
            throw new ArgumentException(
                $"{count} values do not fill the shape ({string.Join(", ", shape)}).", nameof(shape));
        }

        // A one-element tuple needs its trailing comma in Python: (5,).
        string dimensions = shape.Length == 1
            ? shape[0].ToString(CultureInfo.InvariantCulture) + ","
            : string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dimensions}), }}";
        int unpadded = Magic.Length + 2 + dict.Length + 1;
        int padding = (64 - (unpadded % 64)) % 64;
        string header = dict + new string(' ', padding) + "\n";

        stream.Write(Magic);
        Span<byte> length = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(length, checked((ushort)header.Length));
        stream.Write(length);
        stream.Write(Encoding.ASCII.GetBytes(header));
    }
}
