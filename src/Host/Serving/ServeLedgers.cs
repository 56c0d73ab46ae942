using DataflowContrastive.Host.Ledger;
using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Host.Running;

namespace DataflowContrastive.Host.Serving;

/// <summary>Opens the shard ledger a pipeline's <c>serve.ledger</c> names.</summary>
public static class ServeLedgers
{
    /// <summary>The ledger's default file, in the pipeline's output folder.</summary>
    public static string DefaultPath(PipelineDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return Path.Combine(definition.OutputDirectory, "ledger.db");
    }

    /// <summary>
    /// Opens the ledger of <paramref name="definition"/>: an empty <c>serve.ledger</c> or <c>file:PATH</c> is a
    /// ledger file for the workers of one machine. The SQL ledgers (<c>sqlite:PATH</c>, <c>postgres://...</c>) are
    /// opened by the ledger area's <c>ShardLedger.OpenAsync</c>, which takes this method's place once it is present.
    /// </summary>
    public static Task<IShardLedger> OpenAsync(PipelineDefinition definition, TimeProvider time,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(time);
        cancellationToken.ThrowIfCancellationRequested();
        string spec = definition.Serve.Ledger;
        string path = spec.Length == 0
            ? Path.ChangeExtension(DefaultPath(definition), ".json")
            : spec.StartsWith("file:", StringComparison.Ordinal)
                ? Path.GetFullPath(spec["file:".Length..], Path.GetDirectoryName(definition.SourceFile)!)
                : throw new PipelineRunException(
                    $"{definition.SourceFile}: serve.ledger '{spec}' needs the SQL ledger, which this build lacks");
        return Task.FromResult<IShardLedger>(new FileShardLedger(path, time));
    }
}
