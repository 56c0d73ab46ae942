using DataflowContrastive.Host.Commands;

namespace DataflowContrastive.Tests.Host;

/// <summary>Data that can never finish a run stops it with an error, never a hang and never a false success.</summary>
public sealed class DegenerateDataTests : IDisposable
{
    private static readonly TimeSpan NoHang = TimeSpan.FromMinutes(2);

    private readonly string _work = Directory.CreateTempSubdirectory("dfc-degenerate-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task A_run_by_steps_whose_every_shard_is_rejected_fails_instead_of_spinning()
    {
        string pipeline = Write("corrupt", TestPaths.Shared("bugs", "parquet", "parquettesting__PARQUET-1481.parquet"),
            "batch: { size: 2 }\ntrain: { steps: 4, device: cpu }\n");

        int exitCode = await CommandLine.DispatchAsync(["run", pipeline], CancellationToken.None).WaitAsync(NoHang);

        Assert.Equal(1, exitCode);
        Assert.False(Directory.Exists(Path.Combine(_work, "corrupt", "checkpoints", "step-00000000")));
    }

    [Fact]
    public async Task A_run_whose_good_samples_never_fill_one_batch_fails_instead_of_reporting_success()
    {
        // 17 good rows in the first sample shard, and 4 photos without captions: 21 rows, so the footers promise one
        // batch of 20, but only 17 samples are good.
        string shards = $"[{TestPaths.Repo("samples", "coco-cc", "coco-cc-00000.parquet")}, " +
            $"{TestPaths.Shared("data", "parquet-real", "smoosense_images.parquet")}]";
        string pipeline = Write("short", shards, "batch: { size: 20 }\ntrain: { epochs: 1, device: cpu }\n");

        int exitCode = await CommandLine.DispatchAsync(["run", pipeline], CancellationToken.None).WaitAsync(NoHang);

        Assert.Equal(1, exitCode);
        Assert.False(Directory.Exists(Path.Combine(_work, "short", "embeddings")));
    }

    [Fact]
    public async Task A_run_by_steps_whose_epoch_holds_fewer_good_samples_than_a_batch_fails_not_repeating_pairs()
    {
        // The first sample shard holds 17 good rows; a batch of 20 could only be filled by repeating some.
        string pipeline = Write("repeat", TestPaths.Repo("samples", "coco-cc", "coco-cc-00000.parquet"),
            "batch: { size: 20 }\ntrain: { steps: 5, device: cpu }\n");

        int exitCode = await CommandLine.DispatchAsync(["run", pipeline], CancellationToken.None).WaitAsync(NoHang);

        Assert.Equal(1, exitCode);
    }

    private string Write(string name, string shards, string more)
    {
        string path = Path.Combine(_work, name + ".yaml");
        File.WriteAllText(path, $"""
            source: {"{"} shards: {shards} {"}"}
            output: {name}
            images: {"{"} size: 32 {"}"}
            model: {"{"} embed_dim: 8, image_widths: [4], text_width: 16, text_layers: 1, text_heads: 2 {"}"}

            """ + more);
        return path;
    }
}
