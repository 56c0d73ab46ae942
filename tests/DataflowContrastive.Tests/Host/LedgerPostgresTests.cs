using DataflowContrastive.Host.Ledger;
using Npgsql;

namespace DataflowContrastive.Tests.Host;

/// <summary>
/// The ledger contract on PostgreSQL: the server <c>scripts/test.sh</c> starts and names in
/// <c>DFC_TEST_POSTGRES</c>. Without it these tests fail rather than skip, so a run that forgot the server cannot
/// pass unnoticed.
/// </summary>
public sealed class LedgerPostgresTests : LedgerContractTests
{
    private const string Variable = "DFC_TEST_POSTGRES";

    protected override string Spec => ConnectionString;

    private static string ConnectionString => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value
        ? value
        : throw new InvalidOperationException($"{Variable} is not set: run the tests with scripts/test.sh, which "
            + "starts a throwaway PostgreSQL server and sets it (or set it to an Npgsql connection string).");

    protected override async Task<IShardLedger> OpenLedgerAsync(TimeProvider time) =>
        await PostgresShardLedger.OpenAsync(ConnectionString, time, default);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 })
        {
            return;
        }

        // The database may outlive the test run when DFC_TEST_POSTGRES names a server of one's own.
        await using NpgsqlDataSource database = NpgsqlDataSource.Create(ConnectionString);
        await using NpgsqlCommand delete = database.CreateCommand(
            "DELETE FROM shard_ledger WHERE pipeline = $1 OR pipeline = $2");
        delete.Parameters.Add(new NpgsqlParameter { Value = Pipeline });
        delete.Parameters.Add(new NpgsqlParameter { Value = Pipeline + "-other" });
        await delete.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task A_postgres_uri_spec_opens_the_same_database()
    {
        var parts = new NpgsqlConnectionStringBuilder(ConnectionString);
        string uri = $"postgres://{parts.Username}@/{parts.Database}?host={Uri.EscapeDataString(parts.Host!)}";

        await using IShardLedger ledger = await ShardLedger.OpenAsync(uri, "unused.db", Clock, default);
        Assert.IsType<PostgresShardLedger>(ledger);
        await ledger.RecordSeenAsync(Pipeline, [new ShardFingerprint("a.parquet", 1, Clock.GetUtcNow(), "aa")],
            default);
        Assert.Equal("aa", Assert.Single(await ledger.ListAsync(Pipeline, default)).ContentHash);
    }
}
