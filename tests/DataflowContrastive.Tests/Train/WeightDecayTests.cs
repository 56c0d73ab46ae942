using DataflowContrastive.Train;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DataflowContrastive.Tests.Train;

[Collection(SharedTorchGenerator.Name)]
public class WeightDecayTests
{
    [Fact]
    public void Only_matrices_and_embeddings_are_decayed()
    {
        var optimizer = new DataflowContrastive.Train.OptimizerOptions { WeightDecay = 0.2 };
        using var trainer = new ClipTrainer(TinyModels.Options, optimizer, 10, CPU, seed: 1);
        var names = trainer.Model.named_parameters().ToDictionary(p => p.parameter.Handle, p => p.name);

        var decayOf = new Dictionary<string, double>();
        foreach (ParamGroup group in trainer.Optimizer.ParamGroups)
        {
            double decay = ((AdamW.Options)group.Options).weight_decay!.Value;
            foreach (Parameter parameter in group.Parameters)
            {
                decayOf.Add(names[parameter.Handle], decay);
            }
        }

        Assert.Equal(names.Count, decayOf.Count);
        Assert.Equal(0, decayOf["logit_scale"]);
        Assert.Equal(0, decayOf["visual.proj.bias"]);
        Assert.Equal(0, decayOf["visual.stages.norm0.weight"]);
        Assert.Equal(0, decayOf["text.transformer.0.ln_1.weight"]);
        Assert.Equal(0.2, decayOf["visual.proj.weight"]);
        Assert.Equal(0.2, decayOf["visual.stages.conv0.weight"]);
        Assert.Equal(0.2, decayOf["text.token_embedding.weight"]);
        Assert.Equal(0.2, decayOf["text.positional_embedding"]);
        Assert.Equal(0.2, decayOf["text.text_projection"]);
    }
}
