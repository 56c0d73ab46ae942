using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using SkiaSharp;

namespace DataflowContrastive.Augment;

/// <summary>
/// The system's TurboJPEG library (libturbojpeg.so.0, libjpeg-turbo 2.1 or later), used when present because it
/// runs libjpeg-turbo's SIMD code: on this machine it decoded a 640x426 COCO photo twice as fast as the copy of
/// libjpeg-turbo inside SkiaSharp's native library. Same decoder, same defaults (accurate integer IDCT, smooth
/// chroma upsampling), so the pixels are the same as Skia's and Pillow's. Without the library Skia decodes.
/// CMYK and YCCK JPEGs always go to Skia, which converts them to RGB. The TurboJPEG API of libjpeg-turbo 2.1 (Debian
/// 12's) cannot decode a region, so rows below a crop are left out by shortening the frame header's height; the
/// columns beside it are still decoded, and every row above it still goes through the entropy decoder.
/// </summary>
internal static unsafe class TurboJpeg
{
    private const int PixelFormatRgba = 7;
    private const int ColorspaceCmyk = 3;
    private const int ColorspaceYcck = 4;
    private const int ErrorWarning = 0;

    /// <summary>
    /// Rows at the decode's scale decoded below the last row a crop reads, when the decode is cut short: libjpeg's
    /// chroma upsampling of a row reads the chroma row below it, which the shortened picture would otherwise lack.
    /// One row was enough for every bottom row of the pictures tested, at every scale and subsampling; two are kept.
    /// </summary>
    public const int RowsBelow = 2;

    private static readonly Api? Functions = Load();

    [ThreadStatic]
    private static IntPtr t_handle;

    public static bool IsAvailable => Functions is not null;

    /// <summary>
    /// Decodes the JPEG, <paramref name="full"/> in its header, at 1 / <paramref name="denominator"/> (1, 2, 4 or 8)
    /// of its size into <paramref name="pixels"/>: every row, or for a baseline JPEG only the first rows that cover
    /// <paramref name="rows"/> full-size rows. False when the library is missing or the JPEG is CMYK or YCCK; throws
    /// <see cref="ImageRejectedException"/> when the decoder fails.
    /// </summary>
    public static bool TryDecode(
        ReadOnlySpan<byte> encoded, SKSizeI full, int denominator, int rows,
        [NotNullWhen(true)] out PooledPixels? pixels)
    {
        pixels = null;
        if (Functions is not { } api)
        {
            return false;
        }

        // One decompressor per thread, kept for the thread's life: creating one costs more than a small decode.
        if (t_handle == IntPtr.Zero)
        {
            t_handle = api.InitDecompress();
        }
        if (!HeaderMatches(api, encoded, full))
        {
            return false;
        }
        SKSizeI size = new(Scaled(full.Width, denominator), Scaled(full.Height, denominator));
        int heightField = rows < full.Height ? BaselineHeightOffset(encoded) : -1;
        if (heightField < 0)
        {
            pixels = Decode(api, encoded, size, size.Height, endsEarly: false);
            return true;
        }

        // The decoder stops where the frame header says the picture ends, so a copy that says it ends just below
        // the rows needed is decoded no further: the entropy data of the rows below is only skipped over.
        byte[] copy = ArrayPool<byte>.Shared.Rent(encoded.Length);
        try
        {
            encoded.CopyTo(copy);
            BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(heightField, 2), (ushort)rows);
            pixels = Decode(api, copy.AsSpan(0, encoded.Length), size, Scaled(rows, denominator), endsEarly: true);
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    /// <summary>libjpeg's scaled size: rounded up.</summary>
    private static int Scaled(int length, int denominator) => (length + denominator - 1) / denominator;

    private static bool HeaderMatches(Api api, ReadOnlySpan<byte> encoded, SKSizeI full)
    {
        int width, height, subsampling, colorspace;
        fixed (byte* source = encoded)
        {
            if (api.DecompressHeader3(t_handle, source, (nuint)encoded.Length, &width, &height, &subsampling,
                    &colorspace) != 0)
            {
                throw Failed(api);
            }
        }
        // Skia read the same header; should the two ever disagree, Skia's reading wins.
        return colorspace is not (ColorspaceCmyk or ColorspaceYcck) && width == full.Width && height == full.Height;
    }

    private static PooledPixels Decode(Api api, ReadOnlySpan<byte> encoded, SKSizeI size, int height, bool endsEarly)
    {
        PooledPixels pixels = PooledPixels.Rent(size.Width, height);
        try
        {
            int status;
            fixed (byte* source = encoded)
            fixed (byte* target = pixels.Span)
            {
                status = api.Decompress2(t_handle, source, (nuint)encoded.Length, target, size.Width,
                    pixels.RowBytes, height, PixelFormatRgba, 0);
            }
            if (status != 0 && !(endsEarly && OnlySkippedTheRest(api)))
            {
                throw Failed(api);
            }
            return pixels;
        }
        catch
        {
            pixels.Dispose();
            throw;
        }
    }

    /// <summary>
    /// True when the decoder's only complaint is the entropy data it skipped after the shortened picture's end: the
    /// warning libjpeg gives for bytes before the end marker. libjpeg keeps the text of a decode's first warning
    /// only, so a complaint about the rows decoded, which comes earlier, is the one seen and is not excused.
    /// </summary>
    private static bool OnlySkippedTheRest(Api api)
    {
        string? why = Marshal.PtrToStringUTF8(api.GetErrorStr2(t_handle));
        return api.GetErrorCode(t_handle) == ErrorWarning && why is not null
            && why.StartsWith("Corrupt JPEG data:", StringComparison.Ordinal)
            && why.Contains("extraneous bytes before marker", StringComparison.Ordinal);
    }

    /// <summary>
    /// Offset of the height field in a baseline or extended sequential Huffman frame header (SOF0, SOF1), or -1 for
    /// any other kind of JPEG: a progressive picture's scans each cover the whole picture and are left alone.
    /// </summary>
    private static int BaselineHeightOffset(ReadOnlySpan<byte> jpeg)
    {
        int pos = 2;
        while (pos + 4 <= jpeg.Length && jpeg[pos] == 0xFF)
        {
            byte marker = jpeg[pos + 1];
            if (marker == 0xFF)
            {
                pos++;
                continue;
            }
            if (marker is 0xC0 or 0xC1)
            {
                return pos + 5;
            }
            if (marker is >= 0xC2 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC || marker == 0xDA)
            {
                return -1;
            }
            pos += 2 + BinaryPrimitives.ReadUInt16BigEndian(jpeg.Slice(pos + 2, 2));
        }
        return -1;
    }

    private static ImageRejectedException Failed(Api api)
    {
        string why = Marshal.PtrToStringUTF8(api.GetErrorStr2(t_handle)) ?? "unknown error";
        return new ImageRejectedException(ImageRejectedException.Corrupt, $"The JPEG decoder failed: {why}.");
    }

    private static Api? Load()
    {
        if (!NativeLibrary.TryLoad("libturbojpeg.so.0", out IntPtr library)
            && !NativeLibrary.TryLoad("turbojpeg", out library))
        {
            return null;
        }
        if (!NativeLibrary.TryGetExport(library, "tjInitDecompress", out IntPtr init)
            || !NativeLibrary.TryGetExport(library, "tjDecompressHeader3", out IntPtr header)
            || !NativeLibrary.TryGetExport(library, "tjDecompress2", out IntPtr decompress)
            || !NativeLibrary.TryGetExport(library, "tjGetErrorStr2", out IntPtr error)
            || !NativeLibrary.TryGetExport(library, "tjGetErrorCode", out IntPtr code))
        {
            return null;
        }
        return new Api(
            (delegate* unmanaged<IntPtr>)init,
            (delegate* unmanaged<IntPtr, byte*, nuint, int*, int*, int*, int*, int>)header,
            (delegate* unmanaged<IntPtr, byte*, nuint, byte*, int, int, int, int, int, int>)decompress,
            (delegate* unmanaged<IntPtr, IntPtr>)error,
            (delegate* unmanaged<IntPtr, int>)code);
    }

    private sealed class Api(
        delegate* unmanaged<IntPtr> init,
        delegate* unmanaged<IntPtr, byte*, nuint, int*, int*, int*, int*, int> header,
        delegate* unmanaged<IntPtr, byte*, nuint, byte*, int, int, int, int, int, int> decompress,
        delegate* unmanaged<IntPtr, IntPtr> error,
        delegate* unmanaged<IntPtr, int> code)
    {
        public IntPtr InitDecompress() => init();

        public int DecompressHeader3(IntPtr h, byte* jpeg, nuint size, int* w, int* ht, int* sub, int* cs) =>
            header(h, jpeg, size, w, ht, sub, cs);

        public int Decompress2(IntPtr h, byte* jpeg, nuint size, byte* dst, int w, int pitch, int ht, int pf,
            int flags) => decompress(h, jpeg, size, dst, w, pitch, ht, pf, flags);

        public IntPtr GetErrorStr2(IntPtr h) => error(h);

        public int GetErrorCode(IntPtr h) => code(h);
    }
}
