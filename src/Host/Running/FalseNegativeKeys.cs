using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace DataflowContrastive.Host.Running;

/// <summary>
/// The identities by which CLIP's loss finds false negatives in a batch: two rows are the same image when their
/// encoded bytes are equal, and the same caption when their captions are equal once white space is collapsed and
/// case is folded ("A  dog\n" and "a dog").
/// </summary>
/// <remarks>
/// Each identity is the first 64 bits of a SHA-256, so two different images or captions share a key with a
/// probability near 2^-64 per pair. Images equal in pixels but encoded differently (re-saved, resized) are not found.
/// </remarks>
public static class FalseNegativeKeys
{
    /// <summary>The image key and the caption key of one sample.</summary>
    public static (long Image, long Caption) Of(ReadOnlySpan<byte> image, string caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        return (Hash(image), Hash(Encoding.UTF8.GetBytes(NormaliseCaption(caption))));
    }

    /// <summary>The caption with leading and trailing white space removed, inner runs made one space, lower-cased.
    /// </summary>
    public static string NormaliseCaption(string caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        var text = new StringBuilder(caption.Length);
        foreach (string word in caption.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            text.Append(text.Length == 0 ? "" : " ").Append(word.ToLowerInvariant());
        }
        return text.ToString();
    }

    private static long Hash(ReadOnlySpan<byte> bytes)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(bytes, digest);
        return BinaryPrimitives.ReadInt64LittleEndian(digest);
    }
}
