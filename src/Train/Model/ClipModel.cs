using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DataflowContrastive.Train;

/// <summary>
/// The two-tower model of CLIP (Radford et al. 2021): an image encoder, a text encoder, and the learned logit scale
/// t whose exponential is the inverse temperature of the contrastive loss.
/// </summary>
public sealed class ClipModel : nn.Module
{
    /// <summary>Initial logit scale, ln(1/0.07), as in the CLIP paper.</summary>
    public static readonly double InitialLogitScale = Math.Log(1 / 0.07);

    private const string LogitScaleName = "logit_scale";

    private readonly ImageEncoder _visual;
    private readonly TextEncoder _text;

    /// <summary>Creates a model with fresh weights; seed torch beforehand for reproducible ones.</summary>
    /// <param name="options">Shapes of the encoders; validated here.</param>
    public ClipModel(ModelOptions options) : base("clip")
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;

        _visual = new ImageEncoder(options);
        _text = new TextEncoder(options);
        register_module("visual", _visual);
        register_module("text", _text);
        register_parameter(LogitScaleName, new Parameter(tensor(InitialLogitScale, float32)));
    }

    /// <summary>The shapes this model was built with.</summary>
    public ModelOptions Options { get; }

    /// <summary>The learned scalar t; the loss multiplies cosine similarities by min(exp(t), 100).</summary>
    // Looked up by name each time: moving the module to a device replaces the parameter object.
    public Parameter LogitScale => this.RegisteredParameter(LogitScaleName);

    /// <summary>Maps images (N, 3, S, S) to L2-normalised embeddings (N, EmbedDim).</summary>
    public Tensor EncodeImage(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        using var scope = NewDisposeScope();
        return nn.functional.normalize(_visual.forward(images), dim: -1).MoveToOuterDisposeScope();
    }

    /// <summary>Maps token rows (N, L) of int64 ids to L2-normalised embeddings (N, EmbedDim).</summary>
    public Tensor EncodeText(Tensor tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        using var scope = NewDisposeScope();
        return nn.functional.normalize(_text.forward(tokens), dim: -1).MoveToOuterDisposeScope();
    }
}
