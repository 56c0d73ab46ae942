using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DataflowContrastive.Train;

/// <summary>
/// The image-only model of SimCLR (Chen et al. 2020) and SupCon (Khosla et al. 2020): a backbone (the convolutional
/// stages of <see cref="ImageEncoder"/>, average-pooled) and a projection head, an MLP Linear-ReLU-Linear, whose
/// output the contrastive loss sees.
/// </summary>
/// <remarks>
/// Both papers train through the head and evaluate the backbone's representation h before it, since the head learns
/// to discard what the augmentations change (colour, orientation) and h keeps more of the image. So
/// <see cref="Represent"/> (h, L2-normalised, width of the last stage) is what export and evaluation use, and
/// <see cref="Project"/> (z, L2-normalised, EmbedDim wide) is what the loss uses. The head's hidden layer is as wide as
/// h, as in SimCLR.
/// </remarks>
public sealed class ImageOnlyModel : nn.Module
{
    private readonly ImageEncoder _backbone;
    private readonly Sequential _head;

    /// <summary>Creates a model with fresh weights; seed torch beforehand for reproducible ones.</summary>
    /// <param name="options">Stage widths, image size and EmbedDim (the head's output); the text fields are unused.
    /// </param>
    public ImageOnlyModel(ModelOptions options) : base("image_only")
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _backbone = new ImageEncoder(options, project: false);
        int width = _backbone.FeatureWidth;
        _head = nn.Sequential(
            ("fc1", nn.Linear(width, width)), ("relu", nn.ReLU()), ("fc2", nn.Linear(width, options.EmbedDim)));
        register_module("visual", _backbone);
        register_module("head", _head);
    }

    /// <summary>The shapes this model was built with.</summary>
    public ModelOptions Options { get; }

    /// <summary>Width of the representation <see cref="Represent"/> returns: the last stage's channels.</summary>
    public int RepresentationWidth => _backbone.FeatureWidth;

    /// <summary>Maps images (N, 3, S, S) to the backbone's L2-normalised representation (N, RepresentationWidth).
    /// </summary>
    public Tensor Represent(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        using var scope = NewDisposeScope();
        return nn.functional.normalize(_backbone.forward(images), dim: -1).MoveToOuterDisposeScope();
    }

    /// <summary>Maps images (N, 3, S, S) through backbone and head to unit-length projections (N, EmbedDim).</summary>
    public Tensor Project(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        using var scope = NewDisposeScope();
        return nn.functional.normalize(_head.forward(_backbone.forward(images)), dim: -1).MoveToOuterDisposeScope();
    }
}
