using System.Buffers;
using System.Diagnostics;

namespace DataflowContrastive.Augment;

/// <summary>
/// An opaque RGBA8888 picture, rows packed, in an array rented from the shared pool; disposing returns it.
/// Skia reads and writes it through <c>fixed</c> pointers, so the array is never pinned longer than a call.
/// </summary>
internal sealed class PooledPixels : IDisposable
{
    private byte[]? _buffer;

    private PooledPixels(byte[] buffer, int width, int height)
    {
        _buffer = buffer;
        Width = width;
        Height = height;
    }

    public int Width { get; }

    public int Height { get; }

    public int RowBytes => Width * 4;

    /// <summary>
    /// Decoded size over full size: 1, or 1/2, 1/4, 1/8 for a reduced JPEG decode. Exact, unlike the ratio of the
    /// sizes, which libjpeg rounds up.
    /// </summary>
    public double Scale { get; set; } = 1;

    /// <summary>Column of the decoded (possibly reduced) picture that this buffer's first column holds.</summary>
    public int Left { get; set; }

    /// <summary>Row of the decoded (possibly reduced) picture that this buffer's first row holds.</summary>
    public int Top { get; set; }

    public Span<byte> Span
    {
        get
        {
            Debug.Assert(_buffer is not null, "Pixels used after they went back to the pool.");
            return _buffer.AsSpan(0, RowBytes * Height);
        }
    }

    public static PooledPixels Rent(int width, int height)
    {
        Debug.Assert(width > 0 && height > 0, "The caller checks sizes against the pixel budget first.");
        return new PooledPixels(ArrayPool<byte>.Shared.Rent(checked(width * height * 4)), width, height);
    }

    public void Dispose()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
    }
}
