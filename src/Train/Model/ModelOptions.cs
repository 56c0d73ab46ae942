namespace DataflowContrastive.Train;

/// <summary>Shape of the two encoders. The defaults give a small model that trains on a CPU.</summary>
public sealed class ModelOptions
{
    /// <summary>Width of the shared embedding space both encoders project into. Default 128.</summary>
    public int EmbedDim { get; init; } = 128;

    /// <summary>Side of the square images the image encoder takes, in pixels. Default 224.</summary>
    public int ImageSize { get; init; } = 224;

    /// <summary>
    /// Channels of each stage of the image encoder; every stage halves the resolution. Default {32, 64, 128, 256}.
    /// </summary>
    public int[] ImageWidths { get; init; } = [32, 64, 128, 256];

    /// <summary>Width of the text Transformer. Default 128.</summary>
    public int TextWidth { get; init; } = 128;

    /// <summary>Number of Transformer blocks in the text encoder. Default 2.</summary>
    public int TextLayers { get; init; } = 2;

    /// <summary>Attention heads per block; must divide <see cref="TextWidth"/>. Default 4.</summary>
    public int TextHeads { get; init; } = 4;

    /// <summary>
    /// Token rows the text encoder takes; equals <see cref="CaptionTokenizer.ContextLength"/>. Default 32.
    /// </summary>
    public int ContextLength { get; init; } = 32;

    /// <summary>
    /// Number of token ids; set it from <see cref="CaptionTokenizer.VocabularySize"/>. Default 50,259 (GPT-2 plus the
    /// start- and end-of-text markers).
    /// </summary>
    public int VocabularySize { get; init; } = CaptionTokenizer.Gpt2VocabularySize + 2;

    /// <summary>
    /// Checks every value and throws <see cref="ArgumentException"/> naming the first one out of range.
    /// </summary>
    public void Validate()
    {
        Require(EmbedDim >= 1, nameof(EmbedDim), "must be at least 1");
        Require(ImageSize >= 1, nameof(ImageSize), "must be at least 1");
        Require(ImageWidths is { Length: > 0 }, nameof(ImageWidths), "must name at least one stage");
        Require(ImageWidths.All(w => w >= 1), nameof(ImageWidths), "must hold widths of at least 1");
        Require(TextWidth >= 1, nameof(TextWidth), "must be at least 1");
        Require(TextLayers >= 1, nameof(TextLayers), "must be at least 1");
        Require(TextHeads >= 1 && TextWidth % TextHeads == 0, nameof(TextHeads), "must divide TextWidth");
        Require(ContextLength >= 2, nameof(ContextLength), "must be at least 2 (start- and end-of-text)");
        Require(VocabularySize >= 2, nameof(VocabularySize), "must be at least 2");
    }

    private static void Require(bool condition, string name, string rule)
    {
        if (!condition)
        {
            throw new ArgumentException($"ModelOptions.{name} {rule}.", name);
        }
    }
}
