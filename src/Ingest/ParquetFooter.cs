using System.Buffers.Binary;

namespace DataflowContrastive.Ingest;

/// <summary>
/// Checks a file's Parquet frame (leading and trailing <c>PAR1</c>, a footer length that fits the file) before
/// the library parses it, so that a truncated or foreign file is reported as such and never taken for a
/// transient I/O failure (seeking to a negative offset otherwise surfaces as an operating-system error).
/// </summary>
internal static class ParquetFooter
{
    private const int MagicLength = 4;

    // Leading magic, footer length (4 bytes) and trailing magic.
    private const int FrameLength = MagicLength + 4 + MagicLength;

    public static async Task CheckAsync(Stream stream, string shardPath, CancellationToken cancellationToken)
    {
        long length = stream.Length;
        if (length < FrameLength)
        {
            throw new ShardException(shardPath, null, $"not a Parquet file: only {length} bytes long");
        }

        byte[] head = new byte[MagicLength];
        byte[] tail = new byte[8];
        stream.Seek(0, SeekOrigin.Begin);
        await stream.ReadExactlyAsync(head, cancellationToken);
        stream.Seek(length - tail.Length, SeekOrigin.Begin);
        await stream.ReadExactlyAsync(tail, cancellationToken);
        stream.Seek(0, SeekOrigin.Begin);

        if (!head.AsSpan().SequenceEqual("PAR1"u8) || !tail.AsSpan(4).SequenceEqual("PAR1"u8))
        {
            throw new ShardException(shardPath, null,
                "not a Parquet file or truncated: it does not start and end with PAR1");
        }
        uint footerLength = BinaryPrimitives.ReadUInt32LittleEndian(tail);
        if (footerLength > length - FrameLength)
        {
            throw new ShardException(shardPath, null,
                $"corrupt footer: it claims {footerLength} bytes in a file of {length}");
        }
    }
}
