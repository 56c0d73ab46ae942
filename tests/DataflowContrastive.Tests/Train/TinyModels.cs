using DataflowContrastive.Train;

namespace DataflowContrastive.Tests.Train;

/// <summary>Models and batches small enough that a training step takes milliseconds on a CPU.</summary>
internal static class TinyModels
{
    public const int Vocabulary = 64;

    public static ModelOptions Options { get; } = new()
    {
        EmbedDim = 8,
        ImageSize = 8,
        ImageWidths = [4, 8],
        TextWidth = 16,
        TextLayers = 1,
        TextHeads = 2,
        ContextLength = 6,
        VocabularySize = Vocabulary,
    };

    public static OptimizerOptions FastOptimizer { get; } = new() { LearningRate = 3e-3, WarmupSteps = 0 };

    /// <summary>
    /// Images in CHW order, count·3·S·S floats: each channel a random linear ramp, so images differ in colour and
    /// direction rather than in noise that a global average pool would wash out.
    /// </summary>
    public static float[] Images(int count, int seed)
    {
        var random = new Random(seed);
        int size = Options.ImageSize;
        var images = new float[count * 3 * size * size];
        for (int plane = 0; plane < count * 3; plane++)
        {
            double offset = Draw(random), slopeX = Draw(random), slopeY = Draw(random);
            for (int y = 0; y < size; y++)
            {
                for (int x = 0; x < size; x++)
                {
                    double value = offset + (slopeX * x / size) + (slopeY * y / size);
                    images[(plane * size * size) + (y * size) + x] = (float)value;
                }
            }
        }
        return images;

        static double Draw(Random random) => (random.NextDouble() * 2) - 1;
    }

    /// <summary>
    /// Rows [start, a, b, end, 0, 0] with distinct a, b per row; end-of-text is the largest id of the vocabulary.
    /// </summary>
    public static long[] Tokens(int count)
    {
        int length = Options.ContextLength;
        var tokens = new long[count * length];
        for (int row = 0; row < count; row++)
        {
            tokens[row * length] = Vocabulary - 2;
            tokens[(row * length) + 1] = 1 + row;
            tokens[(row * length) + 2] = 20 + (3 * row);
            tokens[(row * length) + 3] = Vocabulary - 1;
        }
        return tokens;
    }
}
