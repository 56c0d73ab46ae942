using System.Runtime.InteropServices;
using SkiaSharp;

namespace DataflowContrastive.Augment;

/// <summary>
/// The system's TurboJPEG library (libturbojpeg.so.0, libjpeg-turbo 2.1 or later), used when present because it
/// runs libjpeg-turbo's SIMD code: on this machine it decoded a 640x426 COCO photo twice as fast as the copy of
/// libjpeg-turbo inside SkiaSharp's native library. Same decoder, same defaults (accurate integer IDCT, smooth
/// chroma upsampling), so the pixels are the same as Skia's and Pillow's. Without the library Skia decodes.
/// CMYK and YCCK JPEGs always go to Skia, which converts them to RGB.
/// </summary>
internal static unsafe class TurboJpeg
{
    private const int PixelFormatRgba = 7;
    private const int ColorspaceCmyk = 3;
    private const int ColorspaceYcck = 4;

    private static readonly Api? Functions = Load();

    [ThreadStatic]
    private static IntPtr t_handle;

    public static bool IsAvailable => Functions is not null;

    /// <summary>
    /// Decodes the whole JPEG, <paramref name="full"/> in its header, at <paramref name="size"/> (full, or a 1/2,
    /// 1/4, 1/8 scale) into <paramref name="pixels"/>. False when the library is missing or the JPEG is CMYK or
    /// YCCK; throws <see cref="ImageRejectedException"/> when the decoder fails.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoded, SKSizeI full, SKSizeI size, PooledPixels pixels)
    {
        if (Functions is not { } api)
        {
            return false;
        }

        // One decompressor per thread, kept for the thread's life: creating one costs more than a small decode.
        if (t_handle == IntPtr.Zero)
        {
            t_handle = api.InitDecompress();
        }
        fixed (byte* source = encoded)
        fixed (byte* target = pixels.Span)
        {
            int width, height, subsampling, colorspace;
            if (api.DecompressHeader3(t_handle, source, (nuint)encoded.Length, &width, &height, &subsampling,
                    &colorspace) != 0)
            {
                throw Failed(api);
            }
            // Skia read the same header; should the two ever disagree, Skia's reading wins.
            if (colorspace is ColorspaceCmyk or ColorspaceYcck || width != full.Width || height != full.Height)
            {
                return false;
            }
            if (api.Decompress2(t_handle, source, (nuint)encoded.Length, target, size.Width, pixels.RowBytes,
                    size.Height, PixelFormatRgba, 0) != 0)
            {
                throw Failed(api);
            }
        }
        return true;
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
            || !NativeLibrary.TryGetExport(library, "tjGetErrorStr2", out IntPtr error))
        {
            return null;
        }
        return new Api(
            (delegate* unmanaged<IntPtr>)init,
            (delegate* unmanaged<IntPtr, byte*, nuint, int*, int*, int*, int*, int>)header,
            (delegate* unmanaged<IntPtr, byte*, nuint, byte*, int, int, int, int, int, int>)decompress,
            (delegate* unmanaged<IntPtr, IntPtr>)error);
    }

    private sealed class Api(
        delegate* unmanaged<IntPtr> init,
        delegate* unmanaged<IntPtr, byte*, nuint, int*, int*, int*, int*, int> header,
        delegate* unmanaged<IntPtr, byte*, nuint, byte*, int, int, int, int, int, int> decompress,
        delegate* unmanaged<IntPtr, IntPtr> error)
    {
        public IntPtr InitDecompress() => init();

        public int DecompressHeader3(IntPtr h, byte* jpeg, nuint size, int* w, int* ht, int* sub, int* cs) =>
            header(h, jpeg, size, w, ht, sub, cs);

        public int Decompress2(IntPtr h, byte* jpeg, nuint size, byte* dst, int w, int pitch, int ht, int pf,
            int flags) => decompress(h, jpeg, size, dst, w, pitch, ht, pf, flags);

        public IntPtr GetErrorStr2(IntPtr h) => error(h);
    }
}
