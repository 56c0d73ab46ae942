using System.Data.Common;
using Npgsql;

namespace DataflowContrastive.Host.Ledger;

/// <summary>
/// The ledger that several workers on several machines share: one PostgreSQL table. A worker leases a shard in one
/// transaction that locks the row it picks (<c>FOR UPDATE SKIP LOCKED</c>), so concurrent workers pass over each
/// other's pick instead of waiting for it or taking it too. Times are stored as <c>timestamptz</c>, to the
/// microsecond.
/// </summary>
public sealed class PostgresShardLedger : SqlShardLedger
{
    // Workers starting together would race to create the table; they take turns on this advisory lock instead.
    private const long SchemaLock = 0x_6466_635f_6c65_6467;

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS shard_ledger (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            pipeline text NOT NULL,
            path text NOT NULL,
            size bigint NOT NULL,
            modified timestamptz NOT NULL,
            content_hash text NOT NULL,
            state text NOT NULL CHECK (state IN ('new', 'in_progress', 'done', 'rejected')),
            worker text,
            lease_expires_at timestamptz,
            reason text,
            first_seen timestamptz NOT NULL,
            finished timestamptz,
            attempts integer NOT NULL DEFAULT 0,
            UNIQUE (pipeline, path, content_hash));
        CREATE INDEX IF NOT EXISTS shard_ledger_next ON shard_ledger (pipeline, state, id);
        """;

    private readonly NpgsqlDataSource _dataSource;

    private PostgresShardLedger(NpgsqlDataSource dataSource, TimeProvider time)
        : base(time) => _dataSource = dataSource;

    private protected override string NextShardQuery => """
        SELECT id, path, content_hash FROM shard_ledger
        WHERE pipeline = @pipeline AND (state = 'new' OR (state = 'in_progress' AND lease_expires_at <= @now))
        ORDER BY id LIMIT 1
        FOR UPDATE SKIP LOCKED
        """;

    /// <summary>
    /// Connects with an Npgsql <paramref name="connectionString"/> (<c>Host=...;Database=...</c>) and creates the
    /// table if it is missing.
    /// </summary>
    public static async Task<PostgresShardLedger> OpenAsync(string connectionString, TimeProvider time,
        CancellationToken cancellation)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentNullException.ThrowIfNull(time);
        NpgsqlDataSource dataSource = NpgsqlDataSource.Create(connectionString);
        try
        {
            await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync(cancellation);
            await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellation);
            await using NpgsqlCommand command = new($"SELECT pg_advisory_xact_lock({SchemaLock}); {Schema}",
                connection, transaction);
            await command.ExecuteNonQueryAsync(cancellation);
            await transaction.CommitAsync(cancellation);
        }
        catch
        {
            await dataSource.DisposeAsync();
            throw;
        }
        return new PostgresShardLedger(dataSource, time);
    }

    /// <inheritdoc />
    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    private protected override object TimeValue(DateTimeOffset time) => time.ToUniversalTime();

    private protected override DateTimeOffset ReadTime(DbDataReader reader, int ordinal) =>
        reader.GetFieldValue<DateTimeOffset>(ordinal);

    private protected override async Task<LedgerSession> BeginAsync(CancellationToken cancellation)
    {
        NpgsqlConnection connection = await _dataSource.OpenConnectionAsync(cancellation);
        try
        {
            NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellation);
            return new LedgerSession(connection, transaction, connection.DisposeAsync);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}
