using DataflowContrastive.Host.Ledger;

namespace DataflowContrastive.Tests.Host;

/// <summary>The ledger contract on an SQLite file; two connections (or processes) share the one file.</summary>
public sealed class LedgerSqliteTests : LedgerContractTests
{
    private readonly string _work = Directory.CreateTempSubdirectory("dfc-ledger-").FullName;

    protected override string Spec => "sqlite:" + Path.Combine(_work, "ledger.db");

    protected override async Task<IShardLedger> OpenLedgerAsync(TimeProvider time) =>
        await SqliteShardLedger.OpenAsync(Path.Combine(_work, "ledger.db"), time, default);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    [Fact]
    public async Task The_file_is_in_wal_mode_and_keeps_its_entries_when_opened_again()
    {
        string path = Path.Combine(_work, "again", "ledger.db");
        await using (SqliteShardLedger ledger = await SqliteShardLedger.OpenAsync(path, Clock, default))
        {
            await ledger.RecordSeenAsync(Pipeline, [new ShardFingerprint("a.parquet", 1, Clock.GetUtcNow(), "aa")],
                default);
        }

        await using SqliteShardLedger reopened = await SqliteShardLedger.OpenAsync(path, Clock, default);
        Assert.Equal("aa", Assert.Single(await reopened.ListAsync(Pipeline, default)).ContentHash);
        // The SQLite file header's bytes 18 and 19 (read and write format versions) are 2 in WAL mode.
        byte[] header = new byte[20];
        await using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            await file.ReadExactlyAsync(header);
        }
        Assert.Equal((2, 2), (header[18], header[19]));
    }
}
