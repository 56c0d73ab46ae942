using DataflowContrastive.Train;
using static TorchSharp.torch;

namespace DataflowContrastive.Tests.Train;

[Collection(SharedTorchGenerator.Name)]
public class ClipModelTests
{
    [Fact]
    public void Image_and_text_embeddings_are_unit_rows_of_the_embedding_width()
    {
        manual_seed(1);
        using var model = new ClipModel(TinyModels.Options);
        using var scope = NewDisposeScope();

        Tensor images = tensor(TinyModels.Images(3, seed: 1), [3, 3, 8, 8]);
        Tensor tokens = tensor(TinyModels.Tokens(3), [3, 6]);
        Tensor image_features = model.EncodeImage(images);
        Tensor text_features = model.EncodeText(tokens);

        Assert.Equal(new long[] { 3, 8 }, image_features.shape);
        Assert.Equal(new long[] { 3, 8 }, text_features.shape);
        foreach (float norm in image_features.norm(1).data<float>().ToArray()
            .Concat(text_features.norm(1).data<float>().ToArray()))
        {
            Assert.Equal(1f, norm, 5);
        }
    }

    [Fact]
    public void Logit_scale_starts_at_log_of_one_over_0_07()
    {
        using var model = new ClipModel(TinyModels.Options);

        Assert.Equal(Math.Log(1 / 0.07), model.LogitScale.item<float>(), 5);
    }

    [Fact]
    public void Tokens_after_end_of_text_do_not_change_the_text_embedding()
    {
        manual_seed(2);
        using var model = new ClipModel(TinyModels.Options);
        using var scope = NewDisposeScope();
        const long end = TinyModels.Vocabulary - 1;

        // Same caption, different padding: the causal mask hides what follows end-of-text.
        Tensor tokens = tensor(new long[] { 62, 5, 9, end, 0, 0, 62, 5, 9, end, 17, 33 }, [2, 6]);
        float[] features = model.EncodeText(tokens).data<float>().ToArray();

        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(features[i], features[8 + i], 5);
        }
    }

    [Fact]
    public void Tokens_before_end_of_text_do_change_the_text_embedding()
    {
        manual_seed(2);
        using var model = new ClipModel(TinyModels.Options);
        using var scope = NewDisposeScope();
        const long end = TinyModels.Vocabulary - 1;

        Tensor tokens = tensor(new long[] { 62, 5, 9, end, 0, 0, 62, 5, 10, end, 0, 0 }, [2, 6]);
        float[] features = model.EncodeText(tokens).data<float>().ToArray();

        Assert.NotEqual(features[..8], features[8..]);
    }

    [Fact]
    public void Group_norms_start_as_the_identity_affine_map()
    {
        using var model = new ClipModel(TinyModels.Options);

        foreach ((string name, var parameter) in model.named_parameters().Where(p => p.name.Contains(".norm")))
        {
            float expected = name.EndsWith(".weight", StringComparison.Ordinal) ? 1 : 0;
            Assert.True(parameter.eq(expected).all().item<bool>(), $"{name} is not all {expected}");
        }
    }

    [Fact]
    public void Invalid_options_are_refused_when_the_model_is_built()
    {
        var options = new ModelOptions { EmbedDim = 0 };

        var error = Assert.Throws<ArgumentException>(() => new ClipModel(options));
        Assert.Equal(nameof(ModelOptions.EmbedDim), error.ParamName);
    }
}
