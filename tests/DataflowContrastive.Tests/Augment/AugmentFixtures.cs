using System.Text.Json;
using System.Text.Json.Serialization;

namespace DataflowContrastive.Tests.Augment;

/// <summary>Reference pixels written once by tests/reference/augment_reference.py (Pillow, torchvision).</summary>
internal static class AugmentFixtures
{
    private static readonly Lazy<ReferenceManifest> LazyManifest = new(() =>
        JsonSerializer.Deserialize<ReferenceManifest>(File.ReadAllText(Path("manifest.json")))
        ?? throw new InvalidDataException("Empty Augment manifest."));

    public static ReferenceManifest Manifest => LazyManifest.Value;

    public static string Path(string name) => System.IO.Path.Combine(TestPaths.Fixtures, "Augment", name);

    public static byte[] Bug(string name) => File.ReadAllBytes(TestPaths.Shared("bugs", "images", name));

    public static byte[] SourceBytes(DecodeCase c) => c.Fixture is not null
        ? File.ReadAllBytes(Path(c.Fixture))
        : File.ReadAllBytes(TestPaths.Shared(c.Source!.Split('/')));

    public static byte[] ReadBytes(string name) => File.ReadAllBytes(Path(name));

    public static float[] ReadFloats(string name)
    {
        byte[] raw = File.ReadAllBytes(Path(name));
        float[] values = new float[raw.Length / 4];
        Buffer.BlockCopy(raw, 0, values, 0, raw.Length);
        return values;
    }

    public static DecodeCase Decode(string rgbName) => Manifest.Decode.Single(d => d.Rgb == rgbName);

    public static TransformCase Transform(string f32Name) => Manifest.Transform.Single(t => t.F32 == f32Name);
}

internal sealed record ReferenceManifest(
    [property: JsonPropertyName("mean")] float[] Mean,
    [property: JsonPropertyName("std")] float[] Std,
    [property: JsonPropertyName("background")] int[] Background,
    [property: JsonPropertyName("decode")] DecodeCase[] Decode,
    [property: JsonPropertyName("transform")] TransformCase[] Transform);

internal sealed record DecodeCase(
    [property: JsonPropertyName("source")] string? Source,
    [property: JsonPropertyName("fixture")] string? Fixture,
    [property: JsonPropertyName("rgb")] string Rgb,
    [property: JsonPropertyName("width")] int Width,
    [property: JsonPropertyName("height")] int Height);

internal sealed record TransformCase(
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("size")] int Size,
    [property: JsonPropertyName("flip")] bool Flip,
    [property: JsonPropertyName("top")] int Top,
    [property: JsonPropertyName("left")] int Left,
    [property: JsonPropertyName("height")] int Height,
    [property: JsonPropertyName("width")] int Width,
    [property: JsonPropertyName("f32")] string F32);

/// <summary>Mean and largest absolute difference between two equally long sequences.</summary>
internal readonly record struct Difference(double Mean, double Max)
{
    public static Difference Of(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double sum = 0;
        double max = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = Math.Abs(actual[i] - expected[i]);
            sum += d;
            max = Math.Max(max, d);
        }
        return new Difference(sum / actual.Length, max);
    }

    public override string ToString() => $"mean {Mean:F5}, max {Max:F5}";
}
