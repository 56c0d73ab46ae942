using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace DataflowContrastive.Host.Ledger;

/// <summary>
/// The embedded ledger: one SQLite file in WAL mode. Every transaction that may write begins with
/// <c>BEGIN IMMEDIATE</c>, so processes sharing the file take turns instead of both reading the same New row; a
/// process that finds the file busy waits up to <see cref="BusyTimeout"/>. Times are stored as UTC text
/// (<c>2026-01-02T03:04:05.0000000Z</c>), which sorts as the times do. The file must be on a local disk: WAL mode
/// needs memory shared between the processes, which a network file system does not give.
/// </summary>
public sealed class SqliteShardLedger : SqlShardLedger
{
    /// <summary>How long a statement waits for another process's write transaction before failing.</summary>
    public static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(30);

    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS shard_ledger (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            pipeline TEXT NOT NULL,
            path TEXT NOT NULL,
            size INTEGER NOT NULL,
            modified TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('new', 'in_progress', 'done', 'rejected')),
            worker TEXT,
            lease_expires_at TEXT,
            reason TEXT,
            first_seen TEXT NOT NULL,
            finished TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            UNIQUE (pipeline, path, content_hash));
        CREATE INDEX IF NOT EXISTS shard_ledger_next ON shard_ledger (pipeline, state, id);
        """;

    private readonly SqliteConnection _connection;

    // A SqliteConnection serves one caller at a time; callers in this process queue here, other processes at the
    // file lock.
    private readonly SemaphoreSlim _turn = new(1, 1);

    private SqliteShardLedger(SqliteConnection connection, TimeProvider time)
        : base(time) => _connection = connection;

    private protected override string NextShardQuery => """
        SELECT id, path, content_hash FROM shard_ledger
        WHERE pipeline = @pipeline AND (state = 'new' OR (state = 'in_progress' AND lease_expires_at <= @now))
        ORDER BY id LIMIT 1
        """;

    /// <summary>Opens (creating if missing) the ledger file at <paramref name="path"/> and its table.</summary>
    public static async Task<SqliteShardLedger> OpenAsync(string path, TimeProvider time,
        CancellationToken cancellation)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(time);
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(folder);

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            // Pooling would keep the file open after disposal.
            Pooling = false,
            DefaultTimeout = (int)BusyTimeout.TotalSeconds,
        }.ToString());
        try
        {
            await connection.OpenAsync(cancellation);
            await using DbCommand setup = connection.CreateCommand();
            setup.CommandText = $"""
                PRAGMA busy_timeout = {(int)BusyTimeout.TotalMilliseconds};
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = NORMAL;
                {Schema}
                """;
            await setup.ExecuteNonQueryAsync(cancellation);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        return new SqliteShardLedger(connection, time);
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync();
        _turn.Dispose();
    }

    private protected override object TimeValue(DateTimeOffset time) =>
        time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    private protected override DateTimeOffset ReadTime(DbDataReader reader, int ordinal) =>
        DateTimeOffset.ParseExact(reader.GetString(ordinal), TimeFormat, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    private protected override async Task<LedgerSession> BeginAsync(CancellationToken cancellation)
    {
        await _turn.WaitAsync(cancellation);
        try
        {
            // deferred: false is BEGIN IMMEDIATE: the write lock is taken before the first read.
            SqliteTransaction transaction = _connection.BeginTransaction(deferred: false);
            return new LedgerSession(_connection, transaction, () =>
            {
                _turn.Release();
                return ValueTask.CompletedTask;
            });
        }
        catch
        {
            _turn.Release();
            throw;
        }
    }
}
