using DataflowContrastive.Augment;

namespace DataflowContrastive.Tests.Augment;

public class RandomResizedCropTests
{
    [Fact]
    public void First_attempt_that_fits_gives_the_box()
    {
        // Area 600x400 = 240000; fraction 0.5 -> 120000; log ratio 0 -> ratio 1 -> w = h = round(346.41) = 346.
        // top = randint(0, 400 - 346 + 1) -> scripted 10; left -> scripted 20.
        ScriptedRandom rng = new([0.5, 0.0], [10, 20]);

        CropBox box = RandomResizedCrop.GetParams(600, 400, 0.08, 1.0, 3.0 / 4, 4.0 / 3, rng);

        Assert.Equal(new CropBox(10, 20, 346, 346), box);
        Assert.Equal([(0, 55), (0, 255)], rng.IntRanges);
    }

    [Fact]
    public void Ten_misses_fall_back_to_the_central_crop_clamped_to_the_ratio()
    {
        // A 100x10 strip: a full-area crop at ratio 4/3 needs h = round(sqrt(1000 / (4/3))) = 27 > 10, every time.
        // Fallback: 100/10 > 4/3, so h = 10, w = round(10 * 4/3) = 13, top = 0, left = (100 - 13) // 2 = 43.
        double logMax = Math.Log(4.0 / 3);
        ScriptedRandom rng = new([.. Enumerable.Repeat(new[] { 1.0, logMax }, 10).SelectMany(x => x)], []);

        CropBox box = RandomResizedCrop.GetParams(100, 10, 0.08, 1.0, 3.0 / 4, 4.0 / 3, rng);

        Assert.Equal(new CropBox(0, 43, 10, 13), box);
        Assert.Equal(20, rng.DoublesUsed);
    }

    [Fact]
    public void Tall_image_falls_back_to_full_width()
    {
        // 10x100: in_ratio 0.1 < 3/4, so w = 10, h = round(10 / 0.75) = 13, top = (100 - 13) // 2 = 43.
        double logMin = Math.Log(3.0 / 4);
        ScriptedRandom rng = new([.. Enumerable.Repeat(new[] { 1.0, logMin }, 10).SelectMany(x => x)], []);

        CropBox box = RandomResizedCrop.GetParams(10, 100, (0.08, 1.0), (3.0 / 4, 4.0 / 3), rng);

        Assert.Equal(new CropBox(43, 0, 13, 10), box);
    }

    [Fact]
    public void Generated_boxes_always_lie_inside_and_respect_the_scale_range()
    {
        for (long i = 0; i < 2000; i++)
        {
            SampleRandom rng = new SampleSeed(3, 1, i, 0).CreateRandom();
            CropBox b = RandomResizedCrop.GetParams(640, 480, 0.2, 1.0, 3.0 / 4, 4.0 / 3, rng);

            Assert.InRange(b.Top, 0, 480 - b.Height);
            Assert.InRange(b.Left, 0, 640 - b.Width);
            double area = (double)b.Width * b.Height / (640 * 480);
            Assert.InRange(area, 0.19, 1.0);
        }
    }

    private sealed class ScriptedRandom(double[] uniforms, int[] ints) : IUniformRandom
    {
        private int _double;
        private int _int;

        public List<(int Min, int Max)> IntRanges { get; } = [];

        public int DoublesUsed => _double;

        public double NextDouble(double min, double max)
        {
            // The script holds the drawn value itself, as torch's uniform_(min, max) would return it.
            double value = uniforms[_double++];
            Assert.InRange(value, min, max);
            return value;
        }

        public int NextInt(int min, int maxExclusive)
        {
            IntRanges.Add((min, maxExclusive));
            return ints[_int++];
        }
    }
}
