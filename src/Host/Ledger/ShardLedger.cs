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
        LedgerSpec parsed = LedgerSpec.Parse(spec, defaultSqlitePath);
        return parsed.Backend switch
        {
            LedgerBackend.Sqlite => await SqliteShardLedger.OpenAsync(parsed.Target, time, cancellation),
            _ => await PostgresShardLedger.OpenAsync(parsed.Target, time, cancellation),
        };
    }
}
