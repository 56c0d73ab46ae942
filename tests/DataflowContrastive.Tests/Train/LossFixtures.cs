using System.Text.Json;
using static TorchSharp.torch;

namespace DataflowContrastive.Tests.Train;

/// <summary>Reads the loss fixtures written by tests/reference/train_*.py.</summary>
internal static class LossFixtures
{
    public static JsonElement[] Cases(string file)
    {
        string path = Path.Combine(TestPaths.Fixtures, "Train", file);
        using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(path));
        return [.. document.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.Clone())];
    }

    public static TheoryData<string> Names(string file) =>
        [.. Cases(file).Select(c => c.GetProperty("name").GetString()!)];

    public static JsonElement Case(string file, string name) =>
        Cases(file).Single(c => c.GetProperty("name").GetString() == name);

    public static Tensor Matrix(JsonElement rows)
    {
        int n = rows.GetArrayLength();
        float[] values = Flatten(rows);
        return tensor(values, [n, values.Length / n]);
    }

    public static float[] Flatten(JsonElement rows) =>
        [.. rows.EnumerateArray().SelectMany(row => row.EnumerateArray().Select(v => v.GetSingle()))];

    /// <summary>Compares a float32 result with a reference, allowing for float32 rounding.</summary>
    public static void AssertClose(double expected, double actual, string what)
    {
        double tolerance = 1e-5 + (5e-5 * Math.Abs(expected));
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"{what}: expected {expected}, got {actual}");
    }

    public static void AssertGradient(JsonElement expectedRows, Tensor actual, double scale)
    {
        float[] expected = Flatten(expectedRows);
        float[] values = actual.data<float>().ToArray();
        Assert.Equal(expected.Length, values.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            // Gradients are compared relative to the largest one, since float32 rounding scales with it.
            double tolerance = 1e-5 + (5e-5 * scale);
            Assert.True(Math.Abs(expected[i] - values[i]) <= tolerance, $"gradient {i}: {expected[i]} vs {values[i]}");
        }
    }

    public static double MaxAbs(JsonElement rows) => Flatten(rows).Max(v => Math.Abs((double)v));
}
