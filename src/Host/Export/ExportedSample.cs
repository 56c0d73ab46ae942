namespace DataflowContrastive.Host.Export;

/// <summary>One embedded sample, in export order, with where it came from.</summary>
/// <param name="Index">Its place in the export's sample order.</param>
/// <param name="Key">The sample's key.</param>
/// <param name="Caption">Its caption.</param>
/// <param name="Label">Its class label, or null where the shard has none.</param>
/// <param name="Shard">The input shard it was read from.</param>
/// <param name="Row">Its 0-based row in that shard.</param>
/// <param name="Image">The L2-normalised image embedding, or null when images are not exported.</param>
/// <param name="Text">The L2-normalised text embedding, or null when texts are not exported.</param>
public sealed record ExportedSample(
    long Index, string Key, string Caption, string? Label, string Shard, long Row, float[]? Image, float[]? Text);
