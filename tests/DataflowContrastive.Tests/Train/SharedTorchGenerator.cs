namespace DataflowContrastive.Tests.Train;

/// <summary>
/// Tests that seed torch's global generator and then draw weights from it. They run one at a time, away from other
/// tests, since any concurrent draw would change the weights they compare.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SharedTorchGenerator
{
    public const string Name = "torch global generator";
}
