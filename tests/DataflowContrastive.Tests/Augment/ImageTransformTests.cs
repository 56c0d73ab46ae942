using DataflowContrastive.Augment;

namespace DataflowContrastive.Tests.Augment;

public class ImageTransformTests
{
    /// <summary>
    /// One 8-bit level after normalisation is 1 / 255 / std, about 0.0146 for CLIP's smallest std. The resampler
    /// follows Pillow's filter and its 8-bit rounding between passes but sums in float where Pillow sums in 22-bit
    /// fixed point, so a value that lands next to a rounding boundary may come out one level apart.
    /// </summary>
    private const double OneLevel = 1 / 255.0 / 0.26130258;

    [Theory]
    [InlineData("train_rocket.f32")]
    [InlineData("train_rocket_flip.f32")]
    [InlineData("train_rocket_small.f32")]
    [InlineData("train_coffee.f32")]
    [InlineData("train_coffee_flip.f32")]
    public void Resized_crop_equals_torchvision_within_one_level(string reference)
    {
        TransformCase c = AugmentFixtures.Transform(reference);
        ImageTransform transform = Transform(c.Size, reducedDecode: false);
        float[] actual = new float[transform.OutputLength];

        transform.ApplyResizedCrop(Source(c), new CropBox(c.Top, c.Left, c.Height, c.Width), c.Flip, actual);

        Difference d = Difference.Of(actual, AugmentFixtures.ReadFloats(c.F32));
        Assert.True(d.Max <= OneLevel * 1.001 && d.Mean <= OneLevel * 0.01, $"{reference}: {d}");
    }

    [Theory]
    [InlineData("eval_rocket.f32")]
    [InlineData("eval_coffee.f32")]
    public void Eval_transform_equals_torchvision_resize_and_center_crop_within_one_level(string reference)
    {
        TransformCase c = AugmentFixtures.Transform(reference);
        ImageTransform transform = Transform(c.Size, reducedDecode: false);
        float[] actual = new float[transform.OutputLength];

        transform.ApplyEval(Source(c), actual);

        Difference d = Difference.Of(actual, AugmentFixtures.ReadFloats(c.F32));
        Assert.True(d.Max <= OneLevel * 1.001 && d.Mean <= OneLevel * 0.01, $"{reference}: {d}");
    }

    /// <summary>
    /// A reduced-scale JPEG decode (here 1/2) computes each pixel from the low frequencies of an 8x8 block before
    /// the bicubic filter runs, so it is close to torchvision's full decode and resize but not equal: measured 6 to
    /// 9 levels at the sharpest edges and 0.3 levels on average; allowed 12 and 0.5.
    /// </summary>
    [Fact]
    public void Reduced_scale_jpeg_decode_of_the_eval_view_stays_close_to_torchvision()
    {
        AssertReducedStaysWithin("eval_rocket.f32", maxLevels: 12, meanLevels: 0.5);
    }

    /// <summary>
    /// A training crop may be decoded down to the output side itself: here a 520x400 crop at 1/4 scale, 130x100,
    /// before the bicubic resize to 96. The block-wise DCT scaling then does nearly all of the shrinking, so the
    /// sharpest edges move further than with the 1/2 scale of the eval view: measured 28 levels at most and 0.84
    /// on average; allowed 32 and 1.
    /// </summary>
    [Fact]
    public void Reduced_scale_jpeg_decode_of_a_training_crop_stays_close_to_torchvision()
    {
        AssertReducedStaysWithin("train_rocket.f32", maxLevels: 32, meanLevels: 1);
    }

    private static void AssertReducedStaysWithin(string reference, double maxLevels, double meanLevels)
    {
        TransformCase c = AugmentFixtures.Transform(reference);
        float[] reduced = Run(Transform(c.Size, reducedDecode: true), c);
        float[] exact = Run(Transform(c.Size, reducedDecode: false), c);

        Difference d = Difference.Of(reduced, AugmentFixtures.ReadFloats(c.F32));
        Assert.True(d.Max <= OneLevel * maxLevels && d.Mean <= OneLevel * meanLevels, $"{reference}: {d}");
        Assert.NotEqual(exact, reduced);
    }

    /// <summary>
    /// A crop of a JPEG is decoded only down to its bottom (with TurboJPEG) or only around it (with Skia alone).
    /// The same crop of the same pixels stored as PNG (decoded whole) must give the same floats: the partial decode
    /// is exact, not an approximation.
    /// </summary>
    [Theory]
    [InlineData("data/skimage-clip/rocket.jpg", 100, 200, 150, 180)]
    [InlineData("data/skimage-clip/rocket.jpg", 0, 0, 60, 80)]
    [InlineData("bugs/images/pillow__pil_sample_cmyk.jpg", 10, 60, 14, 16)]
    [InlineData("bugs/images/pillow__exif-dpi-zerodivision.jpg", 150, 0, 50, 40)]
    public void Region_decode_of_a_small_crop_equals_the_whole_decode(string file, int top, int left, int h, int w)
    {
        byte[] jpeg = File.ReadAllBytes(TestPaths.Shared(file.Split('/')));
        byte[] png = AsPng(jpeg);
        ImageTransform transform = Transform(24, reducedDecode: false);
        float[] fromJpeg = new float[transform.OutputLength];
        float[] fromPng = new float[transform.OutputLength];

        transform.ApplyResizedCrop(jpeg, new CropBox(top, left, h, w), flip: false, fromJpeg);
        transform.ApplyResizedCrop(png, new CropBox(top, left, h, w), flip: false, fromPng);

        Assert.Equal(fromPng, fromJpeg);
    }

    [Fact]
    public void Same_seed_gives_identical_output_and_another_view_does_not()
    {
        byte[] bytes = File.ReadAllBytes(TestPaths.Shared("data", "skimage-clip", "rocket.jpg"));
        ImageTransform transform = new(new AugmentOptions { ImageSize = 64, Recipe = "simclr" }, new DecodeOptions());
        float[] first = new float[transform.OutputLength];
        float[] again = new float[transform.OutputLength];
        float[] other = new float[transform.OutputLength];

        transform.ApplyTrain(bytes, new SampleSeed(7, 2, 123, 0), first);
        Parallel.For(0, 4, _ => transform.ApplyTrain(bytes, new SampleSeed(7, 2, 123, 0), new float[first.Length]));
        transform.ApplyTrain(bytes, new SampleSeed(7, 2, 123, 0), again);
        transform.ApplyTrain(bytes, new SampleSeed(7, 2, 123, 1), other);

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    /// <summary>
    /// The two views of an image-only mode come from one decode that covers both crops. At full scale that decode
    /// reaches the lower crop's bottom, which is exact for the other crop too: each view equals its own decode's.
    /// </summary>
    [Fact]
    public void Two_views_from_one_full_scale_decode_equal_the_views_decoded_apart()
    {
        byte[] bytes = File.ReadAllBytes(TestPaths.Shared("data", "skimage-clip", "rocket.jpg"));
        ImageTransform transform = new(new AugmentOptions { ImageSize = 32, Recipe = "simclr", ReducedDecode = false },
            new DecodeOptions());

        for (int index = 0; index < 12; index++)
        {
            (float[] first, float[] second) = Pair(transform, bytes, index);
            Assert.Equal(Single(transform, bytes, index, view: 0), first);
            Assert.Equal(Single(transform, bytes, index, view: 1), second);
        }
    }

    /// <summary>
    /// With reduced-scale decoding a pair is decoded at the finer of the scales its two crops allow, so a view may
    /// come from finer pixels than it would alone, and so closer to the full-scale decode, never further: measured
    /// on 48 views of this photo, 8 came from a finer decode, each nearer on average and at its worst pixel. The
    /// clip recipe leaves out the colour operations, which would amplify the differences.
    /// </summary>
    [Fact]
    public void Two_views_from_one_reduced_decode_stay_as_close_to_the_full_decode_as_one_view()
    {
        byte[] bytes = File.ReadAllBytes(TestPaths.Shared("data", "skimage-clip", "rocket.jpg"));
        AugmentOptions options = new() { ImageSize = 48, Recipe = "clip", ScaleMin = 0.08 };
        ImageTransform reduced = new(options, new DecodeOptions());
        ImageTransform exact = new(new AugmentOptions { ImageSize = 48, Recipe = "clip", ScaleMin = 0.08,
            ReducedDecode = false }, new DecodeOptions());
        int finer = 0;

        for (int index = 0; index < 24; index++)
        {
            (float[] first, float[] second) = Pair(reduced, bytes, index);
            foreach ((float[] view, int v) in new[] { (first, 0), (second, 1) })
            {
                float[] exactView = Single(exact, bytes, index, v);
                float[] alone = Single(reduced, bytes, index, v);
                Difference d = Difference.Of(view, exactView);
                Assert.True(d.Mean <= Difference.Of(alone, exactView).Mean + 1e-9 && d.Max <= OneLevel * 32,
                    $"sample {index} view {v}: {d}");
                finer += view.AsSpan().SequenceEqual(alone) ? 0 : 1;
            }
        }
        Assert.True(finer > 0, "no view came from a finer decode than it would alone");
    }

    private static (float[] First, float[] Second) Pair(ImageTransform transform, byte[] bytes, int index)
    {
        (float[] first, float[] second) = (new float[transform.OutputLength], new float[transform.OutputLength]);
        transform.ApplyTrainPair(bytes, new SampleSeed(3, 1, index, 0), first, new SampleSeed(3, 1, index, 1), second);
        return (first, second);
    }

    private static float[] Single(ImageTransform transform, byte[] bytes, int index, int view)
    {
        float[] output = new float[transform.OutputLength];
        transform.ApplyTrain(bytes, new SampleSeed(3, 1, index, view), output);
        return output;
    }

    [Fact]
    public void Train_output_is_the_resized_crop_that_torchvision_params_would_give()
    {
        byte[] bytes = File.ReadAllBytes(TestPaths.Shared("data", "skimage-clip", "coffee.png"));
        AugmentOptions options = new() { ImageSize = 32, Recipe = "clip", ScaleMin = 0.08 };
        ImageTransform transform = new(options, new DecodeOptions());
        SampleSeed seed = new(1, 0, 5, 0);
        RecipeSettings r = options.Resolve();
        CropBox expectedCrop = RandomResizedCrop.GetParams(600, 400, r.ScaleMin, r.ScaleMax, options.RatioMin,
            options.RatioMax, seed.CreateRandom());
        float[] train = new float[transform.OutputLength];
        float[] fixedCrop = new float[transform.OutputLength];

        transform.ApplyTrain(bytes, seed, train);
        transform.ApplyResizedCrop(bytes, expectedCrop, flip: false, fixedCrop);

        Assert.Equal(fixedCrop, train);
    }

    [Fact]
    public void Grayscale_with_probability_one_gives_three_equal_channels()
    {
        byte[] bytes = File.ReadAllBytes(TestPaths.Shared("data", "skimage-clip", "coffee.png"));
        AugmentOptions options = new() { ImageSize = 32, Recipe = "simclr", GrayscaleProbability = 1, Mean = [0, 0, 0],
            Std = [1, 1, 1] };
        ImageTransform transform = new(options, new DecodeOptions());
        float[] output = new float[transform.OutputLength];

        transform.ApplyTrain(bytes, new SampleSeed(9, 0, 1, 0), output);

        Assert.Equal(output[..1024], output[1024..2048]);
        Assert.Equal(output[..1024], output[2048..]);
    }

    [Fact]
    public void Simclr_views_of_one_image_differ_and_stay_in_the_normalised_range()
    {
        byte[] bytes = File.ReadAllBytes(TestPaths.Shared("data", "skimage-clip", "astronaut.png"));
        ImageTransform transform = new(new AugmentOptions { ImageSize = 48, Recipe = "simclr" }, new DecodeOptions());
        float low = (0 - 0.48145466f) / 0.26862954f;
        float high = (1 - 0.40821073f) / 0.27577711f;
        List<float[]> views = [];

        for (int view = 0; view < 8; view++)
        {
            float[] output = new float[transform.OutputLength];
            transform.ApplyTrain(bytes, new SampleSeed(5, 0, 0, view), output);
            Assert.All(output, v => Assert.InRange(v, low - 1e-4f, high + 1e-4f));
            views.Add(output);
        }

        Assert.Equal(8, views.Select(v => string.Join(',', v.Take(64))).Distinct().Count());
    }

    [Fact]
    public void One_by_two_picture_is_upscaled_by_both_transforms()
    {
        byte[] bytes = AugmentFixtures.Bug("pillow__orientation_rectangle.jpg");
        ImageTransform transform = new(new AugmentOptions { ImageSize = 16, Recipe = "simclr" }, new DecodeOptions());
        float[] output = new float[transform.OutputLength];

        transform.ApplyEval(bytes, output);
        transform.ApplyTrain(bytes, new SampleSeed(1, 0, 0, 0), output);

        Assert.All(output, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Png_with_damaged_pixel_data_is_rejected_not_crashed_on()
    {
        byte[] bytes = File.ReadAllBytes(TestPaths.Shared("data", "skimage-clip", "coffee.png"));
        for (int i = bytes.Length / 3; i < bytes.Length / 3 + 64; i++)
        {
            bytes[i] ^= 0x5A;
        }
        ImageTransform transform = new(new AugmentOptions { ImageSize = 16 }, new DecodeOptions());

        ImageRejectedException e = Assert.Throws<ImageRejectedException>(
            () => transform.ApplyEval(bytes, new float[transform.OutputLength]));

        Assert.Contains(e.Reason, new[] { ImageRejectedException.Corrupt, ImageRejectedException.Truncated });
    }

    [Fact]
    public void Destination_of_the_wrong_length_is_a_caller_error()
    {
        ImageTransform transform = new(new AugmentOptions { ImageSize = 8 }, new DecodeOptions());
        byte[] bytes = AugmentFixtures.Bug("pillow__hopper_orientation_6.jpg");

        ArgumentException e = Assert.Throws<ArgumentException>(() => transform.ApplyEval(bytes, new float[10]));

        Assert.Equal("destination", e.ParamName);
    }

    [Theory]
    [InlineData("pillow__truncated_jpeg.jpg", ImageRejectedException.Truncated)]
    [InlineData("pillow__truncated_image.png", ImageRejectedException.Truncated)]
    [InlineData("pillow__reallybig.bmp", ImageRejectedException.TooManyPixels)]
    public void Bad_images_are_rejected_by_both_transforms(string file, string reason)
    {
        ImageTransform transform = new(new AugmentOptions { ImageSize = 8 }, new DecodeOptions());
        byte[] bytes = AugmentFixtures.Bug(file);
        float[] output = new float[transform.OutputLength];

        Assert.Equal(reason, Assert.Throws<ImageRejectedException>(() => transform.ApplyEval(bytes, output)).Reason);
        Assert.Equal(reason, Assert.Throws<ImageRejectedException>(
            () => transform.ApplyTrain(bytes, new SampleSeed(1, 0, 0, 0), output)).Reason);
    }

    [Fact]
    public void Upright_picture_is_cropped_not_the_stored_one()
    {
        byte[] rotated = AugmentFixtures.Bug("pillow__hopper_orientation_6.jpg");
        byte[] upright = AugmentFixtures.ReadBytes("pillow__hopper_orientation_6.rgb");
        ImageTransform transform = Transform(4, reducedDecode: false);
        float[] actual = new float[transform.OutputLength];

        // A 4x4 resized crop of the top-left 8x8 block: compare the mean red with the upright reference's block.
        transform.ApplyResizedCrop(rotated, new CropBox(0, 0, 8, 8), flip: false, actual);

        double expectedRed = 0;
        for (int y = 0; y < 8; y++)
        {
            for (int x = 0; x < 8; x++)
            {
                expectedRed += upright[((y * 128) + x) * 3] / 64.0;
            }
        }
        float[] mean = AugmentFixtures.Manifest.Mean;
        float[] std = AugmentFixtures.Manifest.Std;
        double actualRed = (actual[..16].Average() * std[0] + mean[0]) * 255;
        Assert.InRange(actualRed, expectedRed - 2, expectedRed + 2);
    }

    private static byte[] AsPng(byte[] encoded)
    {
        using SkiaSharp.SKBitmap whole = ImageDecoder.Decode(encoded, new DecodeOptions());
        using SkiaSharp.SKData png = whole.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }

    private static float[] Run(ImageTransform transform, TransformCase c)
    {
        float[] output = new float[transform.OutputLength];
        if (c.Kind == "eval")
        {
            transform.ApplyEval(Source(c), output);
        }
        else
        {
            transform.ApplyResizedCrop(Source(c), new CropBox(c.Top, c.Left, c.Height, c.Width), c.Flip, output);
        }
        return output;
    }

    private static ImageTransform Transform(int size, bool reducedDecode) =>
        new(new AugmentOptions { ImageSize = size, ReducedDecode = reducedDecode }, new DecodeOptions());

    private static byte[] Source(TransformCase c) => File.ReadAllBytes(TestPaths.Shared(c.Source.Split('/')));
}
