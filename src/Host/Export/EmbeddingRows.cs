using System.Text.Json.Serialization;

namespace DataflowContrastive.Host.Export;

/// <summary>A row of a Parquet embedding shard with both embeddings.</summary>
public sealed class EmbeddingRow
{
    [JsonPropertyName("key")]
    public string Key { get; set; } = "";

    [JsonPropertyName("caption")]
    public string? Caption { get; set; }

    [JsonPropertyName("label")]
    public string? Label { get; set; }

    [JsonPropertyName("image_embedding")]
    public float[] ImageEmbedding { get; set; } = [];

    [JsonPropertyName("text_embedding")]
    public float[] TextEmbedding { get; set; } = [];

    [JsonPropertyName("step")]
    public long Step { get; set; }
}

/// <summary>A row of a Parquet embedding shard with the image embedding only.</summary>
public sealed class ImageEmbeddingRow
{
    [JsonPropertyName("key")]
    public string Key { get; set; } = "";

    [JsonPropertyName("caption")]
    public string? Caption { get; set; }

    [JsonPropertyName("label")]
    public string? Label { get; set; }

    [JsonPropertyName("image_embedding")]
    public float[] ImageEmbedding { get; set; } = [];

    [JsonPropertyName("step")]
    public long Step { get; set; }
}

/// <summary>A row of a Parquet embedding shard with the text embedding only.</summary>
public sealed class TextEmbeddingRow
{
    [JsonPropertyName("key")]
    public string Key { get; set; } = "";

    [JsonPropertyName("caption")]
    public string? Caption { get; set; }

    [JsonPropertyName("label")]
    public string? Label { get; set; }

    [JsonPropertyName("text_embedding")]
    public float[] TextEmbedding { get; set; } = [];

    [JsonPropertyName("step")]
    public long Step { get; set; }
}

/// <summary>A row of clip-retrieval's <c>metadata_N.parquet</c>, aligned with row N of the <c>.npy</c> files.</summary>
public sealed class EmbeddingMetadataRow
{
    [JsonPropertyName("key")]
    public string Key { get; set; } = "";

    [JsonPropertyName("caption")]
    public string? Caption { get; set; }

    [JsonPropertyName("label")]
    public string? Label { get; set; }
}
