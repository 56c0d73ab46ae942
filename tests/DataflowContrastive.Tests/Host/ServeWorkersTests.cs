using System.Diagnostics;
using DataflowContrastive.Host.Commands;
using DataflowContrastive.Host.Ledger;
using DataflowContrastive.Host.Serving;
using Npgsql;
using Xunit.Abstractions;

namespace DataflowContrastive.Tests.Host;

/// <summary>A tiny model trained once for the tests of a class, whose checkpoints an export pipeline serves.</summary>
public sealed class TinyCheckpoint : IAsyncLifetime
{
    private readonly string _work = Directory.CreateTempSubdirectory("dfc-tiny-model-").FullName;

    /// <summary>The trained run's checkpoint folder.</summary>
    public string Checkpoints => Path.Combine(_work, "trained", "checkpoints");

    public async Task InitializeAsync()
    {
        string pipeline = Path.Combine(_work, "train.yaml");
        await File.WriteAllTextAsync(pipeline, $$"""
            source: { shards: {{TestPaths.Repo("samples", "coco-cc", "coco-cc-00000.parquet")}} }
            output: trained
            images: { size: 32, workers: 1 }
            batch: { size: 4 }
            model: { embed_dim: 8, image_widths: [4], text_width: 16, text_layers: 1, text_heads: 2 }
            train: { steps: 1, device: cpu }
            export: { enabled: false }
            """);
        Assert.Equal(0, await CommandLine.DispatchAsync(["run", pipeline], CancellationToken.None));
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_work, recursive: true);
        return Task.CompletedTask;
    }
}

/// <summary>
/// Two real <c>dfc serve --once</c> processes of one export pipeline, started together on one ledger and one export
/// folder: the shards are split between them, each shard is done exactly once (one lease, one index entry, all its
/// rows), and neither loses the other's entries in <c>index.json</c>. Run on PostgreSQL (the server
/// <c>scripts/test.sh</c> names in <c>DFC_TEST_POSTGRES</c>; without it the test fails) and on a shared SQLite file.
/// </summary>
public sealed class ServeWorkersTests(TinyCheckpoint model, ITestOutputHelper log)
    : IClassFixture<TinyCheckpoint>, IDisposable
{
    private const string Variable = "DFC_TEST_POSTGRES";
    private const int Shards = 8;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(240);

    private readonly string _work = Directory.CreateTempSubdirectory("dfc-workers-").FullName;
    private readonly string _name = "workers-" + Guid.NewGuid().ToString("N")[..12];

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static string ConnectionString => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value
        ? value
        : throw new InvalidOperationException($"{Variable} is not set: run the tests with scripts/test.sh, which "
            + "starts a throwaway PostgreSQL server and sets it (or set it to an Npgsql connection string).");

    [Fact]
    public async Task Two_workers_on_postgres_split_the_shards_and_do_each_exactly_once()
    {
        string connection = ConnectionString;
        try
        {
            await TwoWorkersDoEachShardOnceAsync($"\"{connection}\"");
        }
        finally
        {
            // The database may outlive the test run when DFC_TEST_POSTGRES names a server of one's own.
            await using NpgsqlDataSource database = NpgsqlDataSource.Create(connection);
            await using NpgsqlCommand delete = database.CreateCommand("DELETE FROM shard_ledger WHERE pipeline = $1");
            delete.Parameters.Add(new NpgsqlParameter { Value = _name });
            await delete.ExecuteNonQueryAsync();
        }
    }

    [Fact]
    public async Task Two_workers_on_one_sqlite_file_split_the_shards_and_do_each_exactly_once() =>
        await TwoWorkersDoEachShardOnceAsync("\"sqlite:shared-ledger.db\"");

    private async Task TwoWorkersDoEachShardOnceAsync(string ledger)
    {
        string pipeline = WritePipeline(ledger);
        string[] shards = [.. Enumerable.Range(0, Shards).Select(CopyShard)];

        var clock = Stopwatch.StartNew();
        using Process first = ServeKit.StartDfc("serve", pipeline, "--once");
        using Process second = ServeKit.StartDfc("serve", pipeline, "--once");
        (List<string> firstLines, Task _) = ServeKit.Watch(first, "never");
        (List<string> secondLines, Task _) = ServeKit.Watch(second, "never");
        await Task.WhenAll(first.WaitForExitAsync(), second.WaitForExitAsync()).WaitAsync(Patience);
        string output = Output(firstLines) + "\n----\n" + Output(secondLines);
        Assert.True(first.ExitCode == 0 && second.ExitCode == 0, output);

        // The ledger: every shard done, after one lease, and each worker finished at least one.
        IReadOnlyList<LedgerEntry> entries = await LedgerAsync(pipeline);
        Assert.Equal(shards.Order(StringComparer.Ordinal), entries.Select(e => e.Path).Order(StringComparer.Ordinal));
        Assert.All(entries, e => Assert.Equal((ShardState.Done, 1), (e.State, e.Attempts)));
        log.WriteLine($"{Shards} shards in {clock.Elapsed.TotalSeconds:F1} s, by worker: " + string.Join(", ",
            entries.GroupBy(e => e.Worker).Select(g => $"{g.Key} {g.Count()}")));
        Assert.True(entries.Select(e => e.Worker).Distinct().Count() == 2,
            $"one worker took every shard in {clock.Elapsed.TotalSeconds:F1} s:\n{output}");

        // The index: each shard listed once, with as many rows as the shard holds and as its files hold.
        string export = Path.Combine(_work, "out", "embeddings");
        var index = ServeKit.Index(export);
        Assert.Equal(shards.Order(StringComparer.Ordinal), index.Select(e => e.Source).Order(StringComparer.Ordinal));
        foreach ((string source, long rows, string _, string[] files) in index)
        {
            long shardRows = await ServeKit.RowsAsync(source);
            Assert.Equal(shardRows, rows);
            long written = 0;
            foreach (string file in files.Where(f => f.EndsWith(".parquet", StringComparison.Ordinal)))
            {
                written += await ServeKit.RowsAsync(Path.Combine(export, file));
            }
            Assert.Equal(shardRows, written);
        }
        Assert.Equal(Shards, Directory.GetDirectories(Path.Combine(export, "shards")).Length);
    }

    private string WritePipeline(string ledger)
    {
        Directory.CreateDirectory(Path.Combine(_work, "in"));
        string path = Path.Combine(_work, "workers.yaml");
        File.WriteAllText(path, $$"""
            name: {{_name}}
            kind: export
            source: { shards: in }
            output: out
            images: { workers: 1 }
            batch: { size: 4 }
            export: { checkpoint: {{model.Checkpoints}} }
            serve: { ledger: {{ledger}}, lease_seconds: 6, settle_seconds: 0 }
            """);
        return path;
    }

    // The sample shards, copied under names of their own: the same content at several paths is several shards.
    private string CopyShard(int i)
    {
        string target = Path.Combine(_work, "in", $"part-{i:D2}.parquet");
        File.Copy(TestPaths.Repo("samples", "coco-cc", $"coco-cc-{i % 3:D5}.parquet"), target);
        return target;
    }

    private static async Task<IReadOnlyList<LedgerEntry>> LedgerAsync(string pipelineFile)
    {
        ServedPipeline pipeline = ServedPipeline.Load(pipelineFile);
        await using IShardLedger ledger = await ServeLedgers.OpenAsync(pipeline.Definition, TimeProvider.System,
            CancellationToken.None);
        return await ledger.ListAsync(pipeline.Name, CancellationToken.None);
    }

    private static string Output(List<string> lines)
    {
        lock (lines)
        {
            return string.Join('\n', lines);
        }
    }
}
