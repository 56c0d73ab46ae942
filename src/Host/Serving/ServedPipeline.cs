using DataflowContrastive.Host.Pipelines;

namespace DataflowContrastive.Host.Serving;

/// <summary>
/// A pipeline file as <c>dfc serve</c> loaded it: its checked definition and its text, from which the definition of
/// the work on each single shard is made. The file is read once, so editing it takes effect on the next start.
/// </summary>
public sealed class ServedPipeline
{
    private readonly string _yaml;

    private ServedPipeline(PipelineDefinition definition, string yaml)
    {
        Definition = definition;
        _yaml = yaml;
    }

    /// <summary>The pipeline as the file says.</summary>
    public PipelineDefinition Definition { get; }

    /// <summary>The pipeline's name, which keys its entries in the ledger.</summary>
    public string Name => Definition.Name;

    /// <summary>
    /// Reads and checks the file at <paramref name="path"/>; throws <see cref="PipelineFileException"/>. Its source
    /// folders may still be empty: a served pipeline waits for shards.
    /// </summary>
    public static ServedPipeline Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string fullPath = PipelineFileReader.Locate(path);
        string yaml = File.ReadAllText(fullPath);
        return new ServedPipeline(PipelineFileReader.Parse(yaml, fullPath), yaml);
    }

    /// <summary>
    /// The definition of the work on one shard: only <paramref name="shard"/> as the source, training to
    /// <paramref name="steps"/> steps in all, and the embeddings written to <paramref name="exportDirectory"/>.
    /// </summary>
    public PipelineDefinition ForShard(string shard, int steps, string exportDirectory)
    {
        PipelineDefinition definition = PipelineFileReader.Parse(_yaml, Definition.SourceFile);
        definition.Source.Shards = [shard];
        definition.Train.Steps = steps;
        definition.Export.Enabled = Definition.Serve.Export;
        definition.Export.Directory = exportDirectory;
        return definition;
    }

    /// <summary>
    /// The definition of embedding one shard with the newest checkpoint of this (training) pipeline, without training:
    /// for a shard too small to train on.
    /// </summary>
    public PipelineDefinition ExportOnly(string shard, string exportDirectory)
    {
        PipelineDefinition definition = ForShard(shard, 1, exportDirectory);
        definition.Export.Enabled = true;
        definition.Export.Checkpoint = Definition.Checkpoint.Directory;
        return definition;
    }
}
