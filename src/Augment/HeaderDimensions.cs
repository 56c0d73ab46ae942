using System.Buffers.Binary;
using SkiaSharp;

namespace DataflowContrastive.Augment;

/// <summary>Reads declared dimensions straight from a header, for files the codec refuses to open.</summary>
internal static class HeaderDimensions
{
    public static bool TryRead(ReadOnlySpan<byte> data, SKEncodedImageFormat format, out long width, out long height)
    {
        width = 0;
        height = 0;
        if (format != SKEncodedImageFormat.Bmp || data.Length < 26)
        {
            return false;
        }

        // BITMAPCOREHEADER (12 bytes) stores 16-bit sizes; every later header stores 32-bit ones, the height
        // negative for top-down rows.
        uint headerSize = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(14, 4));
        if (headerSize == 12)
        {
            width = BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(18, 2));
            height = BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(20, 2));
            return true;
        }
        width = Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(data.Slice(18, 4)));
        height = Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(data.Slice(22, 4)));
        return true;
    }
}
