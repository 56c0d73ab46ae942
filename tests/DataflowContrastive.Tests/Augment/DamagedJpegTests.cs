using DataflowContrastive.Augment;

namespace DataflowContrastive.Tests.Augment;

/// <summary>A JPEG of full length whose scan holds damaged bytes is corrupt; one cut short is truncated.</summary>
public class DamagedJpegTests
{
    private static readonly DecodeOptions Defaults = new();

    private static byte[] Whole() =>
        File.ReadAllBytes(TestPaths.Shared("data", "coco-mini", "val2017", "000000000139.jpg"));

    // At half-way the marker walk finds its way back to the end marker and the codec reports the damage; further on,
    // the damaged bytes derail the walk itself.
    [Theory]
    [InlineData(0.5, "The JPEG decoder failed")]
    [InlineData(0.7, "The Jpeg's data is damaged")]
    [InlineData(0.9, "The Jpeg's data is damaged")]
    public void Jpeg_with_bytes_overwritten_mid_scan_is_rejected_as_corrupt_not_truncated(double at, string start)
    {
        byte[] bytes = Whole();
        Array.Fill(bytes, (byte)0xFF, (int)(bytes.Length * at), 64);

        ImageRejectedException e = Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(bytes, Defaults));

        Assert.Equal(ImageRejectedException.Corrupt, e.Reason);
        Assert.StartsWith(start, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Jpeg_with_its_end_cut_off_is_still_rejected_as_truncated()
    {
        byte[] whole = Whole();
        byte[] cut = whole[..(whole.Length - 100)];

        ImageRejectedException e = Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(cut, Defaults));

        Assert.Equal(ImageRejectedException.Truncated, e.Reason);
    }

    [Fact]
    public void Jpeg_whose_walk_derails_but_that_ends_with_its_end_marker_is_damaged()
    {
        byte[] bytes = Whole();
        Assert.Equal(EncodedIntegrity.Completeness.Complete,
            EncodedIntegrity.Check(bytes, SkiaSharp.SKEncodedImageFormat.Jpeg));
        // A byte pair that reads as a segment marker with a length running past the end, near the end of the scan.
        int at = bytes.Length - 200;
        bytes[at] = 0xFF;
        bytes[at + 1] = 0xE1;
        bytes[at + 2] = 0xFF;
        bytes[at + 3] = 0xF0;

        Assert.Equal(EncodedIntegrity.Completeness.Damaged,
            EncodedIntegrity.Check(bytes, SkiaSharp.SKEncodedImageFormat.Jpeg));
        Assert.Equal(EncodedIntegrity.Completeness.Truncated,
            EncodedIntegrity.Check(bytes.AsSpan(0, bytes.Length - 2), SkiaSharp.SKEncodedImageFormat.Jpeg));
    }
}
