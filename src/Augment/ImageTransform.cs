using System.Buffers;
using SkiaSharp;

namespace DataflowContrastive.Augment;

/// <summary>
/// Encoded bytes in, a normalised CHW float tensor of side <see cref="AugmentOptions.ImageSize"/> out. Thread-safe:
/// every call owns its buffers and its random generator, so results depend only on the bytes and the seed.
/// </summary>
public sealed class ImageTransform
{
    /// <summary>
    /// The evaluation resize may come from a reduced-scale JPEG decode only when that leaves at least this many times
    /// the output size: evaluation views are compared across runs and models, so they stay closer to torchvision
    /// than training crops, which may be scaled down to the output side.
    /// </summary>
    private const int ReducedDecodeMargin = 2;

    private readonly AugmentOptions _augment;
    private readonly DecodeOptions _decode;
    private readonly RecipeSettings _recipe;
    private readonly Normalizer _normalizer;
    private readonly ColorJitter _jitter;

    /// <summary>Validates both option sets and prepares the normalisation table.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public ImageTransform(AugmentOptions augment, DecodeOptions decode)
    {
        ArgumentNullException.ThrowIfNull(augment);
        ArgumentNullException.ThrowIfNull(decode);
        augment.Validate();
        decode.Validate();
        _augment = augment;
        _decode = decode;
        _recipe = augment.Resolve();
        _normalizer = new Normalizer(augment.Mean, augment.Std);
        (double b, double c, double s, double h) = _recipe.Jitter;
        _jitter = new ColorJitter(b, c, s, h);
    }

    /// <summary>The recipe's settings with the options' overrides applied.</summary>
    public RecipeSettings Recipe => _recipe;

    /// <summary>Output side in pixels.</summary>
    public int ImageSize => _augment.ImageSize;

    /// <summary>Floats written per image: 3 × side × side.</summary>
    public int OutputLength => 3 * ImageSize * ImageSize;

    /// <summary>
    /// Training view: torchvision <c>RandomResizedCrop</c> (size, the recipe's scale and ratio, the configured
    /// filter, bicubic by default), a horizontal flip, then each with the recipe's probability: colour jitter
    /// (random order), grayscale, Gaussian blur, solarize; then normalisation. Draws come from the seed in that
    /// order: crop, flip, jitter, grayscale, blur, solarize.
    /// </summary>
    /// <exception cref="ImageRejectedException">The bytes cannot become an image.</exception>
    public void ApplyTrain(ReadOnlySpan<byte> encoded, SampleSeed seed, Span<float> destination)
    {
        CheckDestination(destination);
        SampleRandom rng = seed.CreateRandom();
        using PooledPixels pixels = DecodeForCrops(encoded, rng, null, out ImageHeader header, out CropBox crop, out _);
        WriteCrop(pixels, header, crop, rng.NextBool(_recipe.FlipProbability), rng, destination);
    }

    /// <summary>
    /// The two training views of an image-only mode from one decode: each view's draws are those
    /// <see cref="ApplyTrain"/> makes for its seed, and the decode covers both crops at the finer of the two
    /// scales they allow. A view can thus differ slightly from its <see cref="ApplyTrain"/> output when the other
    /// crop asks for a finer decode; it never depends on anything but the bytes and the two seeds.
    /// </summary>
    /// <exception cref="ImageRejectedException">The bytes cannot become an image.</exception>
    public void ApplyTrainPair(ReadOnlySpan<byte> encoded, SampleSeed first, Span<float> firstDestination,
        SampleSeed second, Span<float> secondDestination)
    {
        CheckDestination(firstDestination);
        CheckDestination(secondDestination);
        SampleRandom firstRng = first.CreateRandom();
        SampleRandom secondRng = second.CreateRandom();
        using PooledPixels pixels = DecodeForCrops(encoded, firstRng, secondRng, out ImageHeader header,
            out CropBox firstCrop, out CropBox secondCrop);
        WriteCrop(pixels, header, firstCrop, firstRng.NextBool(_recipe.FlipProbability), firstRng, firstDestination);
        WriteCrop(pixels, header, secondCrop, secondRng.NextBool(_recipe.FlipProbability), secondRng,
            secondDestination);
    }

    // Draws each generator's crop once the header is known and decodes what the crops need, and no more.
    private PooledPixels DecodeForCrops(ReadOnlySpan<byte> encoded, SampleRandom first, SampleRandom? second,
        out ImageHeader header, out CropBox firstCrop, out CropBox secondCrop)
    {
        (CropBox a, CropBox b) = (default, default);
        PooledPixels pixels = ImageDecoder.DecodePooled(encoded, _decode, h =>
        {
            a = DrawCrop(h, first);
            DecodePlan plan = CropPlan(h, a);
            if (second is null)
            {
                return plan;
            }
            b = DrawCrop(h, second);
            return plan.Covering(CropPlan(h, b));
        }, out header);
        (firstCrop, secondCrop) = (a, b);
        return pixels;
    }

    private CropBox DrawCrop(ImageHeader header, SampleRandom rng) => RandomResizedCrop.GetParams(header.Width,
        header.Height, _recipe.ScaleMin, _recipe.ScaleMax, _augment.RatioMin, _augment.RatioMax, rng);

    /// <summary>
    /// The training view for fixed parameters: torchvision's <c>resized_crop</c> of <paramref name="crop"/>
    /// (upright source pixels), optionally <c>hflip</c>, then normalisation.
    /// </summary>
    /// <exception cref="ImageRejectedException">The bytes cannot become an image.</exception>
    public void ApplyResizedCrop(ReadOnlySpan<byte> encoded, CropBox crop, bool flip, Span<float> destination)
    {
        CheckDestination(destination);
        using PooledPixels pixels = ImageDecoder.DecodePooled(encoded, _decode, header =>
        {
            if (crop.Top < 0 || crop.Left < 0 || crop.Height < 1 || crop.Width < 1
                || crop.Top + crop.Height > header.Height || crop.Left + crop.Width > header.Width)
            {
                throw new ArgumentOutOfRangeException(nameof(crop), crop,
                    $"The crop must lie inside the {header.Width}x{header.Height} image.");
            }
            return CropPlan(header, crop);
        }, out ImageHeader header);
        WriteCrop(pixels, header, crop, flip, rng: null, destination);
    }

    /// <summary>
    /// Evaluation view, as open_clip's: <c>Resize</c> of the shorter side to the output side (the configured filter),
    /// <c>CenterCrop</c>, then normalisation. Only the kept window of the resize is computed.
    /// </summary>
    /// <exception cref="ImageRejectedException">The bytes cannot become an image.</exception>
    public void ApplyEval(ReadOnlySpan<byte> encoded, Span<float> destination)
    {
        CheckDestination(destination);
        int side = ImageSize;
        (int newWidth, int newHeight) = (0, 0);
        using PooledPixels pixels = ImageDecoder.DecodePooled(encoded, _decode, header =>
        {
            (newWidth, newHeight) = ShorterSideTo(header.Width, header.Height, side);
            bool reduce = _augment.ReducedDecode && newWidth * ReducedDecodeMargin <= header.Width
                && newHeight * ReducedDecodeMargin <= header.Height;
            return new DecodePlan(
                reduce ? new SKSizeI(newWidth * ReducedDecodeMargin, newHeight * ReducedDecodeMargin) : null, null);
        }, out ImageHeader header);

        // torchvision's CenterCrop rounds the offsets with Python's round, which rounds halves to even.
        int top = (int)Math.Round((newHeight - side) / 2.0, MidpointRounding.ToEven);
        int left = (int)Math.Round((newWidth - side) / 2.0, MidpointRounding.ToEven);

        // A reduced decode's last row and column cover only part of a block: the box ends inside them.
        ResampleWindow window = new(0, 0, header.Width * pixels.Scale, header.Height * pixels.Scale, newWidth,
            newHeight, left, top, side, side);
        ResampleAndWrite(pixels, window, flip: false, rng: null, destination);
    }

    /// <summary>torchvision's <c>Resize(int)</c> output size: shorter side to <paramref name="side"/>.</summary>
    internal static (int Width, int Height) ShorterSideTo(int width, int height, int side)
    {
        // Python: int(requested_new_short * long / short), a float division truncated.
        if (width <= height)
        {
            return (side, (int)((double)side * height / width));
        }
        return ((int)((double)side * width / height), side);
    }

    private DecodePlan CropPlan(ImageHeader header, CropBox crop)
    {
        SKRectI region = new(crop.Left, crop.Top, crop.Left + crop.Width, crop.Top + crop.Height);
        // A training crop may shrink down to the output side itself: the DCT scaling is the first step of the
        // resize's low-pass. Below twice the output side no scale is left to use.
        int side = ImageSize;
        if (!_augment.ReducedDecode || crop.Width < 2 * side || crop.Height < 2 * side)
        {
            return new DecodePlan(null, region);
        }
        double factor = Math.Max((double)side / crop.Width, (double)side / crop.Height);
        SKSizeI atLeast = new((int)Math.Ceiling(header.Width * factor), (int)Math.Ceiling(header.Height * factor));
        return new DecodePlan(atLeast, region);
    }

    private void WriteCrop(
        PooledPixels pixels, ImageHeader header, CropBox crop, bool flip, SampleRandom? rng, Span<float> destination)
    {
        // The decode may be reduced; the crop is in full-size upright pixels.
        double s = pixels.Scale;
        int side = ImageSize;
        // The buffer may also hold only a region of the decode, starting at (Left, Top).
        double x0 = (crop.Left * s) - pixels.Left;
        double y0 = (crop.Top * s) - pixels.Top;
        ResampleWindow window = new(x0, y0, x0 + (crop.Width * s), y0 + (crop.Height * s), side, side, 0, 0, side,
            side);
        ResampleAndWrite(pixels, window, flip, rng, destination);
    }

    private void ResampleAndWrite(
        PooledPixels pixels, in ResampleWindow window, bool flip, SampleRandom? rng, Span<float> destination)
    {
        int side = ImageSize;
        byte[] rgba = ArrayPool<byte>.Shared.Rent(side * side * 4);
        try
        {
            Span<byte> view = rgba.AsSpan(0, side * side * 4);
            Resampler.Resample(pixels, window, _augment.Interpolation, view);
            if (rng is not null && _recipe.HasPhotometric)
            {
                ApplyPhotometric(view, rng);
            }

            // Every colour op is per pixel and the blur is symmetric, so flipping last equals flipping first.
            _normalizer.Write(view, side, flip, destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rgba);
        }
    }

    private unsafe void ApplyPhotometric(Span<byte> rgba, SampleRandom rng)
    {
        int side = ImageSize;
        fixed (byte* p = rgba)
        {
            using SKBitmap image = new();
            image.InstallPixels(new SKImageInfo(side, side, SKColorType.Rgba8888, SKAlphaType.Opaque), (IntPtr)p,
                side * 4);
            if (rng.NextBool(_recipe.JitterProbability))
            {
                ColorJitter.Apply(image, _jitter.GetParams(rng));
            }
            if (rng.NextBool(_recipe.GrayscaleProbability))
            {
                PhotometricOps.ToGrayscale(image);
            }
            if (rng.NextBool(_recipe.BlurProbability))
            {
                float sigma = (float)rng.NextDouble(_recipe.BlurSigma.Min, _recipe.BlurSigma.Max);
                PhotometricOps.GaussianBlur(image, RecipeSettings.BlurKernelSize(side), sigma);
            }
            if (rng.NextBool(_recipe.SolarizeProbability))
            {
                PhotometricOps.Solarize(image, _recipe.SolarizeThreshold);
            }
        }
    }

    private void CheckDestination(Span<float> destination)
    {
        if (destination.Length != OutputLength)
        {
            throw new ArgumentException(
                $"The destination must hold 3 x {ImageSize} x {ImageSize} = {OutputLength} floats; it holds "
                + $"{destination.Length}.", nameof(destination));
        }
    }
}
