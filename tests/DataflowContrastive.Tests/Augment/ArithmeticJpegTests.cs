using DataflowContrastive.Augment;
using SkiaSharp;

namespace DataflowContrastive.Tests.Augment;

public class ArithmeticJpegTests
{
    // small_huffman.jpg and small_arithmetic.jpg were made by cjpeg -quality 90 from the same synthetic 80x60
    // picture, the second with -arithmetic; small_djpeg.ppm is libjpeg-turbo's djpeg decode of the first. The two
    // codings hold the same coefficients, so every decoder must give the same pixels for both.
    [Theory]
    [InlineData("small_huffman.jpg")]
    [InlineData("small_arithmetic.jpg")]
    public void A_jpeg_decodes_to_the_pixels_djpeg_gives_whatever_its_entropy_coding(string name)
    {
        byte[] expected = ReadPpmPixels(AugmentFixtures.Path("small_djpeg.ppm"), out int width, out int height);

        using SKBitmap bitmap = ImageDecoder.Decode(AugmentFixtures.ReadBytes(name), new DecodeOptions());

        Assert.Equal((80, 60), (bitmap.Width, bitmap.Height));
        Assert.Equal((80, 60), (width, height));
        var actual = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                SKColor c = bitmap.GetPixel(x, y);
                int at = ((y * width) + x) * 3;
                (actual[at], actual[at + 1], actual[at + 2]) = (c.Red, c.Green, c.Blue);
            }
        }
        Assert.Equal(expected, actual);
    }

    private static byte[] ReadPpmPixels(string path, out int width, out int height)
    {
        byte[] file = File.ReadAllBytes(path);
        int at = 0;
        string[] header = new string[4];
        for (int field = 0; field < 4; field++)
        {
            while (char.IsWhiteSpace((char)file[at]))
            {
                at++;
            }
            int start = at;
            while (!char.IsWhiteSpace((char)file[at]))
            {
                at++;
            }
            header[field] = System.Text.Encoding.ASCII.GetString(file, start, at - start);
        }
        Assert.Equal("P6", header[0]);
        width = int.Parse(header[1], System.Globalization.CultureInfo.InvariantCulture);
        height = int.Parse(header[2], System.Globalization.CultureInfo.InvariantCulture);
        return file[(at + 1)..];
    }
}
