using System.Buffers.Binary;
using SkiaSharp;

namespace DataflowContrastive.Augment;

/// <summary>
/// Checks on the encoded bytes themselves, made because a codec's own success code is not enough: SkiaSharp returns
/// success and a partly grey picture for a progressive JPEG cut before its end. A JPEG without its end marker is
/// rejected even when its scan data happens to be complete.
/// </summary>
internal static class EncodedIntegrity
{
    /// <summary>What <see cref="Check"/> found.</summary>
    public enum Completeness
    {
        /// <summary>The structure reaches the image's end, as far as it is checked.</summary>
        Complete,

        /// <summary>The data stops before the image does.</summary>
        Truncated,

        /// <summary>The data is all there but its structure is broken.</summary>
        Damaged,
    }

    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private static ReadOnlySpan<byte> JpegEnd => [0xFF, 0xD9];

    /// <summary>The format announced by the first bytes, or null when none we know.</summary>
    public static SKEncodedImageFormat? Sniff(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
        {
            return SKEncodedImageFormat.Jpeg;
        }
        if (data.StartsWith(PngSignature))
        {
            return SKEncodedImageFormat.Png;
        }
        if (data.StartsWith("GIF8"u8))
        {
            return SKEncodedImageFormat.Gif;
        }
        if (data.Length >= 12 && data.StartsWith("RIFF"u8) && data.Slice(8, 4).SequenceEqual("WEBP"u8))
        {
            return SKEncodedImageFormat.Webp;
        }
        if (data.StartsWith("BM"u8))
        {
            return SKEncodedImageFormat.Bmp;
        }
        return null;
    }

    /// <summary>
    /// Whether the data visibly stops before the image does: a JPEG whose markers never reach the end marker, a PNG
    /// whose chunks never reach IEND, a WebP shorter than its RIFF header says. A JPEG that does end with the end
    /// marker but whose walk still fails is damaged, not cut: a corrupted byte pair in its scan looked like a marker
    /// and derailed the walk. Other formats pass here and rely on the codec's result.
    /// </summary>
    public static Completeness Check(ReadOnlySpan<byte> data, SKEncodedImageFormat format) => format switch
    {
        SKEncodedImageFormat.Jpeg when JpegReachesEndMarker(data) => Completeness.Complete,
        SKEncodedImageFormat.Jpeg => data.EndsWith(JpegEnd) ? Completeness.Damaged : Completeness.Truncated,
        SKEncodedImageFormat.Png => PngReachesEnd(data) ? Completeness.Complete : Completeness.Truncated,
        SKEncodedImageFormat.Webp => data.Length >= 8 && data.Length - 8 >= BinaryPrimitives.ReadUInt32LittleEndian(
            data.Slice(4, 4)) ? Completeness.Complete : Completeness.Truncated,
        _ => Completeness.Complete,
    };

    /// <summary>
    /// Walks the JPEG's segments and entropy-coded scans until the end-of-image marker. Only markers count: inside
    /// scan data 0xFF is always followed by a stuffed 0x00 or a restart marker, so an end marker cannot appear by
    /// chance, and one inside an EXIF thumbnail is skipped with its segment.
    /// </summary>
    private static bool JpegReachesEndMarker(ReadOnlySpan<byte> data)
    {
        int pos = 2;
        while (true)
        {
            // Find the next marker; bytes between segments are tolerated as libjpeg tolerates them.
            int ff = data[pos..].IndexOf((byte)0xFF);
            if (ff < 0)
            {
                return false;
            }
            pos += ff;
            while (pos < data.Length && data[pos] == 0xFF)
            {
                pos++;
            }
            if (pos >= data.Length)
            {
                return false;
            }
            byte marker = data[pos++];
            if (marker == 0xD9)
            {
                return true;
            }
            if (marker == 0x00 || marker == 0x01 || marker is >= 0xD0 and <= 0xD8)
            {
                continue;
            }
            if (pos + 2 > data.Length)
            {
                return false;
            }
            int length = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(pos, 2));
            if (length < 2 || pos + length > data.Length)
            {
                return false;
            }
            pos += length;
            if (marker == 0xDA)
            {
                pos = SkipEntropyCodedData(data, pos);
            }
        }
    }

    /// <summary>Position of the first real marker after a scan, or the data's length when there is none.</summary>
    private static int SkipEntropyCodedData(ReadOnlySpan<byte> data, int pos)
    {
        while (true)
        {
            int ff = data[pos..].IndexOf((byte)0xFF);
            if (ff < 0 || pos + ff + 1 >= data.Length)
            {
                return data.Length;
            }
            pos += ff;
            byte next = data[pos + 1];
            if (next != 0x00 && next != 0xFF && next is not (>= 0xD0 and <= 0xD7))
            {
                return pos;
            }
            pos += next == 0xFF ? 1 : 2;
        }
    }

    /// <summary>Follows the PNG's chunk lengths until IEND, without reading chunk contents.</summary>
    private static bool PngReachesEnd(ReadOnlySpan<byte> data)
    {
        long pos = PngSignature.Length;
        while (pos + 8 <= data.Length)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(data.Slice((int)pos, 4));
            if (data.Slice((int)pos + 4, 4).SequenceEqual("IEND"u8))
            {
                return true;
            }
            pos += 12L + length;
        }
        return false;
    }
}
