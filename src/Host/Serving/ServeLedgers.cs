using DataflowContrastive.Host.Ledger;
using DataflowContrastive.Host.Pipelines;

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
    /// Opens the ledger of <paramref name="definition"/>: an empty <c>serve.ledger</c> is an SQLite file in the
    /// output folder; <c>sqlite:PATH</c> (relative to the pipeline file) another SQLite file; a PostgreSQL URI or
    /// connection string a ledger that workers on several machines share.
    /// </summary>
    public static Task<IShardLedger> OpenAsync(PipelineDefinition definition, TimeProvider time,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definition);
        LedgerSpec spec = LedgerSpec.Parse(definition.Serve.Ledger, DefaultPath(definition));
        string target = spec.Backend == LedgerBackend.Sqlite
            ? Path.GetFullPath(spec.Target, Path.GetDirectoryName(Path.GetFullPath(definition.SourceFile))!)
            : spec.Target;
        return ShardLedger.OpenAsync(spec with { Target = target }, time, cancellationToken);
    }
}
