using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using DataflowContrastive.Train;
using static TorchSharp.torch;

namespace DataflowContrastive.Tests.Train;

[Collection(SharedTorchGenerator.Name)]
public sealed class SafetensorsTests
{
    private static readonly float[] Weight = [1.5f, -2f];
    private static readonly float[] Bias = [0.25f];

    [Fact]
    public void A_linear_layer_is_written_as_the_format_lays_it_out()
    {
        using var linear = nn.Linear(2, 1);
        using (no_grad())
        {
            linear.weight!.copy_(tensor(Weight).reshape(1, 2));
            linear.bias!.copy_(tensor(Bias));
        }
        using var stream = new MemoryStream();

        Safetensors.Write(linear, stream);

        // Written out by hand from the format's description: names in ordinal order, data in that order.
        const string json = "{\"__metadata__\":{\"format\":\"pt\"}," +
            "\"bias\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}," +
            "\"weight\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[4,12]}}";
        int paddedLength = (json.Length + 7) / 8 * 8;
        byte[] bytes = stream.ToArray();
        Assert.Equal((ulong)paddedLength, BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        Assert.Equal(json.PadRight(paddedLength), Encoding.ASCII.GetString(bytes, 8, paddedLength));
        byte[] data = bytes[(8 + paddedLength)..];
        Assert.Equal(
            [0x00, 0x00, 0x80, 0x3E, 0x00, 0x00, 0xC0, 0x3F, 0x00, 0x00, 0x00, 0xC0],
            data);
    }

    [Fact]
    public void The_fingerprint_is_the_sha256_of_the_saved_file_and_names_each_tensor_once()
    {
        using var trainer = new ClipTrainer(
            TinyModels.Options, TinyModels.FastOptimizer, 1, DeviceSelector.Resolve("cpu"), seed: 3);
        string path = Path.Combine(Path.GetTempPath(), $"dfc-safetensors-{Guid.NewGuid():N}.safetensors");
        try
        {
            Safetensors.Save(trainer.Model, path);

            byte[] file = File.ReadAllBytes(path);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(file)), Safetensors.Fingerprint(trainer.Model));
            int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
            using var header = System.Text.Json.JsonDocument.Parse(file.AsMemory(8, headerLength));
            string[] names = [.. header.RootElement.EnumerateObject()
                .Select(p => p.Name).Where(n => n != "__metadata__")];
            Assert.Equal(trainer.Model.parameters().Count(), names.Length);
            Assert.Contains("text.transformer.0.attn_qkv.weight", names);
            Assert.DoesNotContain(names, n => n.Contains("._", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
