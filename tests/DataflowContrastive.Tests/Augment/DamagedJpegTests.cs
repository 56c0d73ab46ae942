using DataflowContrastive.Augment;

namespace DataflowContrastive.Tests.Augment;

/// <summary>A JPEG of full length whose scan holds damaged bytes is corrupt; one cut short is truncated.</summary>
public class DamagedJpegTests
{
    private static readonly DecodeOptions Defaults = new();

    private static byte[] Whole() =>
        File.ReadAllBytes(TestPaths.Shared("data", "coco-mini", "val2017", "000000000139.jpg"));

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.7)]
    [InlineData(0.9)]
    public void Jpeg_with_bytes_overwritten_mid_scan_is_rejected_as_corrupt_not_truncated(double at)
    {
        byte[] bytes = Whole();
        Array.Fill(bytes, (byte)0xFF, (int)(bytes.Length * at), 64);

        ImageRejectedException e = Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(bytes, Defaults));

        Assert.Equal(ImageRejectedException.Corrupt, e.Reason);
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
