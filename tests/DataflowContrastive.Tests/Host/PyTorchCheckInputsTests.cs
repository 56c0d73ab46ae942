using System.Text.Json;
using DataflowContrastive.Augment;
using DataflowContrastive.Host.Export;
using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Ingest;
using DataflowContrastive.Train;
using static TorchSharp.torch;

namespace DataflowContrastive.Tests.Host;

/// <summary>
/// Writes what <c>tests/reference/export_safetensors_check.py</c> needs to compare an equivalent PyTorch module with
/// ours: the weights as safetensors, COCO sample images after the evaluation transform, caption tokens, and the
/// embeddings our model gives for them. With <c>DFC_EXPORT_CHECK_DIR</c> set the files are kept there; with
/// <c>DFC_EXPORT_CHECK_CHECKPOINT</c> set the model is that checkpoint's, otherwise a tiny model whose every
/// parameter (norms included) is drawn at random.
/// </summary>
public sealed class PyTorchCheckInputsTests
{
    private const int Count = 12;

    private static readonly JsonSerializerOptions SnakeCase = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    [Fact]
    public async Task Weights_inputs_and_embeddings_are_saved_for_the_pytorch_check()
    {
        string? keep = Environment.GetEnvironmentVariable("DFC_EXPORT_CHECK_DIR");
        string directory = keep ?? Directory.CreateTempSubdirectory("dfc-pytorch-check-").FullName;
        try
        {
            await WriteAsync(directory, Environment.GetEnvironmentVariable("DFC_EXPORT_CHECK_CHECKPOINT"));

            NpyArray images = NpyArray.Read(Path.Combine(directory, "images.npy"));
            NpyArray embeddings = NpyArray.Read(Path.Combine(directory, "image_emb.npy"));
            Assert.Equal(("<f4", Count), (images.Descr, images.Shape[0]));
            Assert.Equal(3, images.Shape[1]);
            Assert.Equal(("<f4", Count), (embeddings.Descr, embeddings.Shape[0]));
            Assert.Equal("<i8", NpyArray.Read(Path.Combine(directory, "tokens.npy")).Descr);
        }
        finally
        {
            if (keep is null)
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    private static async Task WriteAsync(string directory, string? checkpointPath)
    {
        PipelineDefinition definition = PipelineFileReader.Parse("""
            source: { shards: x.parquet }
            images: { size: 32 }
            model: { embed_dim: 16, image_widths: [8, 16, 24], text_width: 32, text_layers: 2, text_heads: 4,
                     context_length: 16 }
            """, Path.Combine(directory, "tiny.yaml"));
        ExportCheckpoint? checkpoint = checkpointPath is null ? null : ExportCheckpoint.Resolve(checkpointPath);
        checkpoint?.ApplyTo(definition);
        var tokenizer = new CaptionTokenizer(definition.Model.ContextLength);
        using var trainer = new ClipTrainer(definition.Model(tokenizer.VocabularySize), definition.Optimizer(), 1,
            DeviceSelector.Resolve("cpu"), seed: 9);
        if (checkpoint is null)
        {
            Randomise(trainer.Model);
        }
        else
        {
            trainer.Model.load(checkpoint.ModelFile, strict: true);
        }

        (float[] images, long[] tokens) = await InputsAsync(definition, tokenizer);
        int dimension = definition.Model.EmbedDim, size = definition.Images.Size;
        Safetensors.Save(trainer.Model, Path.Combine(directory, "model.safetensors"));
        Write(directory, "images.npy", s => Npy.WriteFloat32(s, images, Count, 3, size, size));
        Write(directory, "tokens.npy", s => Npy.WriteInt64(s, tokens, Count, definition.Model.ContextLength));
        Write(directory, "image_emb.npy",
            s => Npy.WriteFloat32(s, trainer.EmbedImages(images, Count), Count, dimension));
        Write(directory, "text_emb.npy", s => Npy.WriteFloat32(s, trainer.EmbedTexts(tokens, Count), Count, dimension));
        await File.WriteAllTextAsync(Path.Combine(directory, "model.json"),
            JsonSerializer.Serialize(definition.Model, SnakeCase));
    }

    private static async Task<(float[] Images, long[] Tokens)> InputsAsync(PipelineDefinition definition,
        CaptionTokenizer tokenizer)
    {
        var transform = new ImageTransform(definition.Augment(), definition.Decode());
        var images = new float[Count * transform.OutputLength];
        var tokens = new long[Count * tokenizer.ContextLength];
        var reader = new ShardReader(definition.Ingest());
        int n = 0;
        string shard = Path.Combine(TestPaths.Repo("samples", "coco-cc"), "coco-cc-00000.parquet");
        await foreach (RawSample sample in reader.ReadAsync(shard, CancellationToken.None))
        {
            transform.ApplyEval(sample.Image, images.AsSpan(n * transform.OutputLength, transform.OutputLength));
            tokenizer.Encode(sample.Caption!, tokens.AsSpan(n * tokenizer.ContextLength, tokenizer.ContextLength));
            if (++n == Count)
            {
                break;
            }
        }
        return (images, tokens);
    }

    // Fresh norms are exactly 1 and 0, which would hide a weight and bias swapped or left out on the PyTorch side.
    private static void Randomise(ClipModel model)
    {
        using var noGrad = no_grad();
        manual_seed(21);
        foreach ((string _, TorchSharp.Modules.Parameter parameter) in model.named_parameters())
        {
            parameter.add_(randn_like(parameter).mul_(0.1));
        }
    }

    private static void Write(string directory, string name, Action<Stream> write)
    {
        using FileStream stream = File.Create(Path.Combine(directory, name));
        write(stream);
    }
}
