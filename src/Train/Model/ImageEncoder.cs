using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DataflowContrastive.Train;

/// <summary>
/// A small convolutional image encoder: stride-2 stages of convolution, group norm and ReLU, then a global average
/// pool and, unless left out, a linear projection into the embedding space.
/// </summary>
/// <remarks>
/// Group norm rather than batch norm: batch statistics would let a contrastive model tell the samples of a batch apart
/// through the normalisation itself, and they would tie the embedding of an image to the batch it came in.
/// </remarks>
public sealed class ImageEncoder : nn.Module<Tensor, Tensor>
{
    private readonly Sequential _stages;
    private readonly Linear? _projection;

    /// <summary>Creates the encoder for <paramref name="options"/>, which must be valid.</summary>
    /// <param name="options">The stage widths and the embedding width.</param>
    /// <param name="project">
    /// False to end at the pooled features (width of the last stage), as a backbone under a separate head.
    /// </param>
    public ImageEncoder(ModelOptions options, bool project = true) : base("visual")
    {
        ArgumentNullException.ThrowIfNull(options);

        _stages = nn.Sequential();
        long inChannels = 3;
        for (int i = 0; i < options.ImageWidths.Length; i++)
        {
            long width = options.ImageWidths[i];
            _stages.append($"conv{i}", nn.Conv2d(inChannels, width, 3, stride: 2, padding: 1, bias: false));
            _stages.append($"norm{i}", IdentityGroupNorm(width));
            _stages.append($"relu{i}", nn.ReLU());
            inChannels = width;
        }
        FeatureWidth = (int)inChannels;

        register_module("stages", _stages);
        if (project)
        {
            _projection = nn.Linear(inChannels, options.EmbedDim);
            register_module("proj", _projection);
        }
    }

    /// <summary>Width of the pooled features, before any projection: the last stage's width.</summary>
    public int FeatureWidth { get; }

    /// <summary>Width of the rows <see cref="forward"/> returns: EmbedDim, or <see cref="FeatureWidth"/> unprojected.
    /// </summary>
    public int OutputWidth => _projection is null ? FeatureWidth : (int)_projection.weight!.shape[0];

    /// <summary>Maps images (N, 3, S, S) to unnormalised features (N, <see cref="OutputWidth"/>).</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        Tensor pooled = _stages.forward(input).mean([2, 3]);
        return (_projection is null ? pooled : _projection.forward(pooled)).MoveToOuterDisposeScope();
    }

    // TorchSharp 0.107 leaves GroupNorm's affine weight and bias uninitialised (seen as NaN and 1e35 values), so
    // they are set here to PyTorch's documented start: weight 1, bias 0.
    private static GroupNorm IdentityGroupNorm(long width)
    {
        GroupNorm norm = nn.GroupNorm(GroupsFor(width), width);
        using (no_grad())
        {
            nn.init.ones_(norm.weight!);
            nn.init.zeros_(norm.bias!);
        }
        return norm;
    }

    // At least 4 channels per group and at most 32 groups, as many as divide the width evenly. One channel per
    // group would be instance norm, which erases the mean colour of an image.
    private static long GroupsFor(long width)
    {
        for (long groups = Math.Min(32, width / 4); groups > 1; groups--)
        {
            if (width % groups == 0)
            {
                return groups;
            }
        }
        return 1;
    }
}
