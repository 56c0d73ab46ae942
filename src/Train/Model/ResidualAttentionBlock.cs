using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DataflowContrastive.Train;

/// <summary>A pre-norm Transformer block with causal self-attention and a 4x GELU MLP, as in CLIP.</summary>
public sealed class ResidualAttentionBlock : nn.Module<Tensor, Tensor>
{
    private readonly int _heads;
    private readonly LayerNorm _ln1;
    private readonly Linear _qkv;
    private readonly Linear _out;
    private readonly LayerNorm _ln2;
    private readonly Sequential _mlp;

    /// <summary>
    /// Creates a block of <paramref name="width"/> channels split over <paramref name="heads"/> heads.
    /// </summary>
    public ResidualAttentionBlock(int width, int heads) : base("block")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(heads, 1);
        if (width % heads != 0)
        {
            throw new ArgumentException($"The width {width} is not divisible by {heads} heads.", nameof(heads));
        }
        _heads = heads;
        _ln1 = nn.LayerNorm(width);
        _qkv = nn.Linear(width, 3 * width);
        _out = nn.Linear(width, width);
        _ln2 = nn.LayerNorm(width);
        _mlp = nn.Sequential(
            ("c_fc", nn.Linear(width, 4 * width)), ("gelu", nn.GELU()), ("c_proj", nn.Linear(4 * width, width)));

        register_module("ln_1", _ln1);
        register_module("attn_qkv", _qkv);
        register_module("attn_out", _out);
        register_module("ln_2", _ln2);
        register_module("mlp", _mlp);
    }

    /// <summary>Maps (N, L, W) to (N, L, W).</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        Tensor x = input + Attend(_ln1.forward(input));
        x = x + _mlp.forward(_ln2.forward(x));
        return x.MoveToOuterDisposeScope();
    }

    private Tensor Attend(Tensor x)
    {
        long n = x.shape[0];
        long length = x.shape[1];
        long width = x.shape[2];

        // (N, L, 3W) -> three (N, heads, L, W/heads) tensors.
        Tensor[] qkv = _qkv.forward(x).view(n, length, 3, _heads, width / _heads).permute(2, 0, 3, 1, 4).unbind(0);
        Tensor attended = nn.functional.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], is_casual: true);
        return _out.forward(attended.transpose(1, 2).reshape(n, length, width));
    }
}
