using DataflowContrastive.Augment;

namespace DataflowContrastive.Tests.Augment;

public class AugmentBenchmarkTests
{
    [Fact]
    public void Benchmark_counts_every_image_and_every_rejection()
    {
        string[] files =
        [
            TestPaths.Shared("data", "skimage-clip", "rocket.jpg"),
            TestPaths.Shared("data", "skimage-clip", "coffee.png"),
            TestPaths.Shared("bugs", "images", "pillow__truncated_jpeg.jpg"),
        ];

        AugmentBenchmarkResult r = AugmentBenchmark.Run(files, new AugmentOptions { ImageSize = 32, Recipe = "simclr" },
            new DecodeOptions(), parallelism: 2, passes: 2);

        Assert.Equal((6, 2, 2, "simclr", 32), (r.Images, r.Rejected, r.Parallelism, r.Recipe, r.ImageSize));
        Assert.True(r.Seconds > 0 && r.ImagesPerSecond > 0);
    }
}
