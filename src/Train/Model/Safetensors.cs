using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace DataflowContrastive.Train;

/// <summary>
/// Writes a model's weights in the safetensors format, so that Python (PyTorch, the <c>safetensors</c> package, or a
/// few lines of numpy) can load them: an 8-byte little-endian header length, a JSON header giving each tensor's dtype,
/// shape and byte range, then the raw little-endian data.
/// </summary>
/// <remarks>
/// Tensor names are the names the model registered its parameters and buffers under (such as
/// <c>visual.proj.weight</c> or <c>text.transformer.0.ln_1.weight</c>, as in open_clip), in ordinal order, which is
/// also the order of their data. TorchSharp's <c>state_dict</c> also lists each tensor a second time under the name
/// of the C# field that holds its module (<c>text._blocks.0._ln1.weight</c>); those aliases are left out, as the
/// safetensors format allows no two names for one tensor. The header carries only <c>{"format": "pt"}</c> as
/// metadata, so the same weights always give the same bytes: <see cref="Fingerprint"/> is the SHA-256 of exactly the
/// file <see cref="Write"/> makes. Only float32 tensors are written, which is all this project's models hold.
/// </remarks>
public static class Safetensors
{
    /// <summary>Writes every tensor of <paramref name="module"/>'s state to <paramref name="stream"/>.</summary>
    /// <exception cref="ArgumentException">The module holds a tensor that is not float32.</exception>
    public static void Write(nn.Module module, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(stream);
        using var scope = NewDisposeScope();

        List<(string Name, Tensor Tensor)> tensors = [.. module.named_parameters()
            .Select(p => (p.name, (Tensor)p.parameter))
            .Concat(module.named_buffers())
            .OrderBy(entry => entry.Item1, StringComparer.Ordinal)
            .Select(entry => (entry.Item1, entry.Item2.detach().cpu().contiguous()))];
        foreach ((string name, Tensor tensor) in tensors)
        {
            if (tensor.dtype != ScalarType.Float32)
            {
                throw new ArgumentException(
                    $"Tensor {name} is {tensor.dtype}; only float32 is written.", nameof(module));
            }
        }

        byte[] header = Header(tensors);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        foreach ((_, Tensor tensor) in tensors)
        {
            WriteLittleEndian(stream, tensor.data<float>().ToArray());
        }
    }

    /// <summary>Writes the weights to <paramref name="path"/> under a temporary name, then renames it.</summary>
    public static void Save(nn.Module module, string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            Write(module, stream);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>
    /// The SHA-256, in lower-case hex, of the safetensors file of <paramref name="module"/>: it names the weights, and
    /// equals <c>sha256sum</c> of a file written by <see cref="Save"/>.
    /// </summary>
    public static string Fingerprint(nn.Module module)
    {
        using var sha = SHA256.Create();
        using (var hashing = new CryptoStream(Stream.Null, sha, CryptoStreamMode.Write))
        {
            Write(module, hashing);
        }
        return Convert.ToHexStringLower(sha.Hash!);
    }

    private static byte[] Header(List<(string Name, Tensor Tensor)> tensors)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            json.WriteString("format", "pt");
            json.WriteEndObject();
            long offset = 0;
            foreach ((string name, Tensor tensor) in tensors)
            {
                long bytes = tensor.numel() * sizeof(float);
                json.WriteStartObject(name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (long dimension in tensor.shape)
                {
                    json.WriteNumberValue(dimension);
                }
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }

        // The format pads the header with spaces to a multiple of 8 bytes, so the data that follows stays aligned.
        int padded = (int)((buffer.Length + 7) / 8 * 8);
        byte[] header = new byte[padded];
        buffer.ToArray().CopyTo(header, 0);
        Encoding.ASCII.GetBytes(new string(' ', padded - (int)buffer.Length)).CopyTo(header, (int)buffer.Length);
        return header;
    }

    private static void WriteLittleEndian(Stream stream, float[] values)
    {
        byte[] bytes = new byte[values.Length * sizeof(float)];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        }
        stream.Write(bytes);
    }
}
