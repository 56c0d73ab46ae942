using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DataflowContrastive.Train;

/// <summary>
/// CLIP's text encoder at small scale: token and position embeddings, pre-norm Transformer blocks with a causal
/// mask, a final layer norm, and the features at the end-of-text position projected into the embedding space.
/// </summary>
/// <remarks>
/// The end-of-text position is found as the argmax of each row's ids, which holds because
/// <see cref="CaptionTokenizer.EndOfText"/> is the largest id. The causal mask keeps the padding after it from
/// changing the features.
/// </remarks>
public sealed class TextEncoder : nn.Module<Tensor, Tensor>
{
    private const string PositionalEmbedding = "positional_embedding";
    private const string TextProjection = "text_projection";

    private readonly Embedding _tokenEmbedding;
    private readonly ModuleList<ResidualAttentionBlock> _blocks;
    private readonly LayerNorm _finalNorm;

    /// <summary>Creates the encoder for <paramref name="options"/>, which must be valid.</summary>
    public TextEncoder(ModelOptions options) : base("text")
    {
        ArgumentNullException.ThrowIfNull(options);
        int width = options.TextWidth;

        _tokenEmbedding = nn.Embedding(options.VocabularySize, width);
        _blocks = new ModuleList<ResidualAttentionBlock>();
        for (int i = 0; i < options.TextLayers; i++)
        {
            _blocks.Add(new ResidualAttentionBlock(width, options.TextHeads));
        }
        _finalNorm = nn.LayerNorm(width);

        register_module("token_embedding", _tokenEmbedding);
        register_parameter(PositionalEmbedding, new Parameter(empty(options.ContextLength, width)));
        register_module("transformer", _blocks);
        register_module("ln_final", _finalNorm);
        register_parameter(TextProjection, new Parameter(empty(width, options.EmbedDim)));

        // CLIP's initialisation for the embeddings and the projection; the blocks keep TorchSharp's defaults.
        using (no_grad())
        {
            nn.init.normal_(_tokenEmbedding.weight!, std: 0.02);
            nn.init.normal_(this.RegisteredParameter(PositionalEmbedding), std: 0.01);
            nn.init.normal_(this.RegisteredParameter(TextProjection), std: Math.Pow(width, -0.5));
        }
    }

    /// <summary>Maps token rows (N, L) of int64 ids to unnormalised features (N, EmbedDim).</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();

        // Parameters are looked up by name: moving the module to a device replaces them.
        Tensor x = _tokenEmbedding.forward(input) + this.RegisteredParameter(PositionalEmbedding);
        foreach (ResidualAttentionBlock block in _blocks)
        {
            x = block.forward(x);
        }
        x = _finalNorm.forward(x);

        long n = x.shape[0];
        long width = x.shape[2];
        Tensor endOfText = input.argmax(-1).view(n, 1, 1).expand(n, 1, width);
        Tensor pooled = x.gather(1, endOfText).squeeze(1);
        return pooled.matmul(this.RegisteredParameter(TextProjection)).MoveToOuterDisposeScope();
    }
}
