namespace DataflowContrastive.Host.Ledger;

/// <summary>Opens the ledger a spec names (see <see cref="LedgerSpec"/>).</summary>
public static class ShardLedger
{
    /// <summary>
    /// Opens the ledger <paramref name="spec"/> names, creating its table if missing: null or blank is an SQLite file
    /// at <paramref name="defaultSqlitePath"/>; <c>sqlite:PATH</c> is an SQLite file; <c>postgres://...</c> or
    /// <c>Host=...</c> is PostgreSQL.
    /// </summary>
    /// <exception cref="ArgumentException">The spec is none of these forms; the message quotes it.</exception>
    public static async Task<IShardLedger> OpenAsync(string? spec, string defaultSqlitePath, TimeProvider time,
        CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(time);
        return await OpenAsync(LedgerSpec.Parse(spec, defaultSqlitePath), time, cancellation);
    }

    /// <summary>Opens the ledger of a parsed spec, creating its table if missing.</summary>
    public static async Task<IShardLedger> OpenAsync(LedgerSpec spec, TimeProvider time,
        CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(time);
        return spec.Backend switch
        {
            LedgerBackend.Sqlite => await SqliteShardLedger.OpenAsync(spec.Target, time, cancellation),
            _ => await PostgresShardLedger.OpenAsync(spec.Target, time, cancellation),
        };
    }
}
