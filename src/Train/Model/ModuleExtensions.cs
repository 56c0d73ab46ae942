using System.Diagnostics;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DataflowContrastive.Train;

internal static class ModuleExtensions
{
    /// <summary>A parameter the module registered itself under <paramref name="name"/>.</summary>
    public static Parameter RegisteredParameter(this nn.Module module, string name) =>
        module.get_parameter(name) ?? throw new UnreachableException($"{module.GetName()} has no parameter {name}.");
}
