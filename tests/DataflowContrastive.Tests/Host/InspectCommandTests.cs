using System.Text.Json;
using DataflowContrastive.Host.Commands;
using DataflowContrastive.Host.Inspecting;
using Parquet;
using Parquet.Schema;

namespace DataflowContrastive.Tests.Host;

public sealed class InspectCommandTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("dfc-inspect-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task A_mixed_folder_is_accounted_row_by_row_and_shard_by_shard()
    {
        MixedFolder folder = await MixedFolder.CreateAsync(Path.Combine(_work, "shards"));
        string rejects = Path.Combine(_work, "out", "rejects.parquet");

        (int exitCode, string output) = await InspectAsync("--json", "--rejects", rejects, "--size", "32",
            "--workers", "2", folder.Path);

        Assert.Equal(0, exitCode);
        JsonElement report = JsonDocument.Parse(output).RootElement;
        Assert.Equal(folder.Shards, report.GetProperty("shards").GetInt32());
        Assert.Equal(folder.RejectedShards.Count, report.GetProperty("shards_rejected").GetInt32());
        Assert.Equal(folder.Rows, report.GetProperty("rows").GetInt64());
        Assert.Equal(folder.Good, report.GetProperty("good").GetInt64());
        Assert.Equal(folder.RowsRejected, report.GetProperty("rows_rejected").GetInt64());
        Assert.Equal(folder.Rejected, Counts(report.GetProperty("rejected_by_reason")));
        Assert.Equal(new SortedDictionary<string, long> { ["caption-invalid-utf8"] = 1, ["caption-truncated"] = 1 },
            Counts(report.GetProperty("notes")));

        // The 2x1 picture with EXIF orientation 8 stands upright as 1x2 (bugs/INDEX.md); "cat" and " cat" are one
        // GPT-2 token each.
        Assert.Equal(1, report.GetProperty("image_width").GetProperty("min").GetInt32());
        Assert.Equal(2, report.GetProperty("image_height").GetProperty("min").GetInt32());
        Assert.Equal(MixedFolder.LongCaption.Length, report.GetProperty("caption_chars").GetProperty("max").GetInt32());
        Assert.Equal(400, report.GetProperty("caption_tokens").GetProperty("max").GetInt32());
        Assert.Equal(2, report.GetProperty("labels").GetInt32());
        Assert.Equal(3, report.GetProperty("label_classes").GetInt32());
        Assert.Equal(rejects, report.GetProperty("rejects").GetString());
        await AssertRejectsFileAsync(rejects, folder);
    }

    [Fact]
    public async Task The_text_report_states_the_counts_and_the_rejects_file()
    {
        MixedFolder folder = await MixedFolder.CreateAsync(Path.Combine(_work, "shards"));
        string rejects = Path.Combine(_work, "rejects.parquet");

        (int exitCode, string output) = await InspectAsync("--rejects", rejects, "--size", "32", folder.Path);

        Assert.Equal(0, exitCode);
        Assert.Contains($"shards: {folder.Shards} found, {folder.RejectedShards.Count} rejected", output,
            StringComparison.Ordinal);
        Assert.Contains($"rows: {folder.Rows} read, {folder.Good} good, {folder.RowsRejected} rejected", output,
            StringComparison.Ordinal);
        Assert.Contains("image-too-many-pixels", output, StringComparison.Ordinal);
        Assert.Contains($"every rejection is listed in {rejects}", output, StringComparison.Ordinal);
        Assert.Contains("caption length (tokens, counted up to 4096): ", output, StringComparison.Ordinal);
        Assert.True(File.Exists(rejects));
    }

    [Fact]
    public async Task A_shard_without_rows_is_named_not_rejected_and_no_samples_give_no_sizes()
    {
        string shards = Directory.CreateDirectory(Path.Combine(_work, "zero")).FullName;
        string empty = Path.Combine(shards, "empty.parquet");
        await DataflowContrastive.Tests.Ingest.TestShards.WriteFlatAsync(empty, []);
        string rejects = Path.Combine(_work, "rejects.parquet");

        (int exitCode, string output) = await InspectAsync("--rejects", rejects, shards);

        Assert.Equal(0, exitCode);
        Assert.Contains("shards: 1 found, 0 rejected", output, StringComparison.Ordinal);
        Assert.Contains($"shard {empty} holds no rows", output, StringComparison.Ordinal);
        Assert.Contains("image sizes and caption lengths: no samples", output, StringComparison.Ordinal);
        Assert.DoesNotContain("median", output, StringComparison.Ordinal);
        Assert.Contains($"rejects written to {rejects}", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_shard_found_exits_1_and_a_usage_error_exits_2()
    {
        string empty = Directory.CreateDirectory(Path.Combine(_work, "empty")).FullName;
        await File.WriteAllTextAsync(Path.Combine(empty, "x.parquet"), "not a shard");

        Assert.Equal(1, await CommandLine.DispatchAsync(["inspect", empty], CancellationToken.None));
        Assert.Equal(2, await CommandLine.DispatchAsync(["inspect"], CancellationToken.None));
        Assert.Equal(2, await CommandLine.DispatchAsync(["inspect", "--size", "0", empty], CancellationToken.None));
        Assert.Equal(2, await CommandLine.DispatchAsync(["inspect", "--frobnicate", empty], CancellationToken.None));
        Assert.Equal(0, await CommandLine.DispatchAsync(["inspect", "--help"], CancellationToken.None));
        Assert.False(File.Exists(Path.Combine(Directory.GetCurrentDirectory(), "rejects.parquet.tmp")));
    }

    [Fact]
    public async Task A_stopped_inspection_exits_130_and_still_completes_the_rejects_file()
    {
        MixedFolder folder = await MixedFolder.CreateAsync(Path.Combine(_work, "shards"));
        string rejects = Path.Combine(_work, "stopped.parquet");
        using var stop = new CancellationTokenSource();
        await stop.CancelAsync();
        using var output = new StringWriter();
        using var error = new StringWriter();

        int exitCode = await InspectCommand.RunAsync(["--rejects", rejects, folder.Path], output, error, stop.Token);

        Assert.Equal(InspectCommand.StoppedExitCode, exitCode);
        Assert.Empty(output.ToString());
        Assert.Contains("stopped", error.ToString(), StringComparison.Ordinal);
        Assert.True(File.Exists(rejects));
        Assert.False(File.Exists(rejects + ".tmp"));
    }

    [Fact]
    public async Task A_rejects_path_that_is_a_folder_is_refused_before_any_row_is_read()
    {
        string rejects = Directory.CreateDirectory(Path.Combine(_work, "rejects")).FullName;

        await AssertRefusedAsAFolderAsync(rejects);
        Assert.Empty(Directory.EnumerateFileSystemEntries(rejects));
    }

    // A new folder named with a trailing separator is a folder too, though it does not exist yet: nothing is made.
    [Fact]
    public async Task A_rejects_path_ending_in_a_separator_is_refused_as_a_folder_and_nothing_is_created()
    {
        string rejects = Path.Combine(_work, "new") + Path.DirectorySeparatorChar;

        await AssertRefusedAsAFolderAsync(rejects);
        Assert.False(Directory.Exists(rejects));
    }

    // Inspect over a mixed folder with --rejects naming a folder: refused as one, before any row is read.
    private async Task AssertRefusedAsAFolderAsync(string rejects)
    {
        MixedFolder folder = await MixedFolder.CreateAsync(Path.Combine(_work, "shards"));

        (int exitCode, string output, string error) = await InspectWithErrorsAsync("--rejects", rejects, folder.Path);

        Assert.Equal(2, exitCode);
        Assert.Empty(output);
        Assert.StartsWith($"dfc inspect: --rejects names a folder, {rejects}; name the Parquet file to write", error,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rejects_path_under_a_file_is_refused_before_any_row_is_read()
    {
        MixedFolder folder = await MixedFolder.CreateAsync(Path.Combine(_work, "shards"));
        string file = Path.Combine(_work, "plain.txt");
        await File.WriteAllTextAsync(file, "a file, not a folder");
        string rejects = Path.Combine(file, "sub", "rejects.parquet");

        (int exitCode, string output, string error) = await InspectWithErrorsAsync("--rejects", rejects, folder.Path);

        Assert.Equal(2, exitCode);
        Assert.Empty(output);
        Assert.StartsWith($"dfc inspect: --rejects cannot be written at {rejects}: ", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--size", "7", "--size must be a whole number from 8 to 4096 (as images.size), was '7'")]
    [InlineData("--size", "100000", "--size must be a whole number from 8 to 4096 (as images.size), was '100000'")]
    [InlineData("--context-length", "3",
        "--context-length must be a whole number from 4 to 1024 (as model.context_length), was '3'")]
    [InlineData("--context-length", "1",
        "--context-length must be a whole number from 4 to 1024 (as model.context_length), was '1'")]
    [InlineData("--workers", "0", "--workers must be a whole number from 1 to 256 (as images.workers), was '0'")]
    [InlineData("--workers", "2147483647",
        "--workers must be a whole number from 1 to 256 (as images.workers), was '2147483647'")]
    public async Task A_number_outside_its_pipeline_key_range_is_a_usage_error_naming_the_range(string option,
        string value, string message)
    {
        string rejects = Path.Combine(_work, "rejects.parquet");

        (int exitCode, string output, string error) =
            await InspectWithErrorsAsync(option, value, "--rejects", rejects, _work);

        Assert.Equal(2, exitCode);
        Assert.Empty(output);
        Assert.StartsWith($"dfc inspect: {message}\n", error, StringComparison.Ordinal);
        Assert.False(File.Exists(rejects));
    }

    [Fact]
    public async Task The_smallest_size_and_context_length_a_pipeline_takes_are_accepted()
    {
        MixedFolder folder = await MixedFolder.CreateAsync(Path.Combine(_work, "shards"));
        string rejects = Path.Combine(_work, "new", "rejects.parquet");

        (int exitCode, string output, string error) = await InspectWithErrorsAsync("--json", "--size", "8",
            "--context-length", "4", "--workers", "1", "--rejects", rejects, folder.Path);

        Assert.True(exitCode == 0, error);
        Assert.Equal(folder.Rows, JsonDocument.Parse(output).RootElement.GetProperty("rows").GetInt64());
        Assert.True(File.Exists(rejects));
        Assert.False(File.Exists(rejects + ".tmp"));
    }

    [Theory]
    [InlineData(new[] { "--rejects", "", "x" }, "--rejects needs a value, and was given an empty one")]
    [InlineData(new[] { "x", " " }, "argument 2 is empty; name a file or folder")]
    public async Task An_empty_argument_is_a_usage_error_naming_where_it_stands(string[] args, string message)
    {
        (int exitCode, _, string error) = await InspectWithErrorsAsync(args);

        Assert.Equal(2, exitCode);
        Assert.StartsWith($"dfc inspect: {message}\n", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Distributions_use_nearest_rank_percentiles()
    {
        // By hand: sorted 1..5; median at rank ceil(2.5) = 3; p95 at rank ceil(4.75) = 5.
        Assert.Equal(new Distribution(1, 3, 5, 5), Distribution.Of([5, 1, 4, 2, 3]));

        // Sorted 10, 20, 30, 40: median at rank ceil(2) = 2, the lower middle; p95 at rank ceil(3.8) = 4.
        Assert.Equal(new Distribution(10, 20, 40, 40), Distribution.Of([40, 10, 30, 20]));

        // 1..20: p95 at rank ceil(19) = 19.
        Assert.Equal(new Distribution(1, 10, 19, 20), Distribution.Of(Enumerable.Range(1, 20)));
        Assert.Equal(new Distribution(0, 0, 0, 0), Distribution.Of([]));
    }

    private static async Task<(int ExitCode, string Output, string Error)> InspectWithErrorsAsync(
        params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int exitCode = await InspectCommand.RunAsync(args, output, error, CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }

    private static async Task<(int ExitCode, string Output)> InspectAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int exitCode = await InspectCommand.RunAsync(args, output, error, CancellationToken.None);
        Assert.True(exitCode == 0, error.ToString());
        return (exitCode, output.ToString());
    }

    private static SortedDictionary<string, long> Counts(JsonElement counts) =>
        new(counts.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64()), StringComparer.Ordinal);

    // Read with Parquet.Net directly: one row per rejection, with its code; the original bytes of a rejected image.
    private static async Task AssertRejectsFileAsync(string path, MixedFolder folder)
    {
        await using ParquetReader reader = await ParquetReader.CreateAsync(path);
        DataField[] fields = reader.Schema.GetDataFields();
        var rows = new List<(string Shard, long? Row, string? Key, string Reason, byte[]? Bytes, string? Code)>();
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            ParquetRowGroupReader group = reader.OpenRowGroupReader(g);
            int n = (int)group.RowCount;
            string?[] shards = new string?[n], keys = new string?[n], reasons = new string?[n], codes = new string?[n];
            long?[] numbers = new long?[n];
            byte[]?[] bytes = new byte[]?[n];
            await group.ReadAsync(fields[0], shards.AsMemory());
            await group.ReadAsync<long>(fields[1], numbers.AsMemory());
            await group.ReadAsync(fields[2], keys.AsMemory());
            await group.ReadAsync(fields[3], reasons.AsMemory());
            await group.ReadAsync(fields[4], bytes.AsMemory());
            await group.ReadAsync(fields[5], codes.AsMemory());
            rows.AddRange(Enumerable.Range(0, n).Select(i =>
                (shards[i]!, numbers[i], keys[i], reasons[i]!, bytes[i], codes[i])));
        }

        Assert.Equal(folder.Rejected.Values.Sum(), rows.Count);
        var byKey = rows.Where(r => r.Key is not null).ToDictionary(r => r.Key!, r => r.Code);
        Assert.Equal(folder.RejectedKeys.OrderBy(p => p.Key), byKey.OrderBy(p => p.Key)!);
        var byShard = rows.Where(r => r.Key is null).ToDictionary(r => Path.GetFileName(r.Shard), r => r.Code);
        Assert.Equal(folder.RejectedShards.OrderBy(p => p.Key), byShard.OrderBy(p => p.Key)!);
        Assert.All(rows, r => Assert.False(string.IsNullOrWhiteSpace(r.Reason)));

        var truncated = rows.Single(r => r.Key == "pillow__truncated_jpeg.jpg");
        Assert.Equal(await File.ReadAllBytesAsync(TestPaths.Shared("bugs", "images", "pillow__truncated_jpeg.jpg")),
            truncated.Bytes);
        Assert.Equal(Path.Combine(folder.Path, "a-rows.parquet"), truncated.Shard);
        Assert.Equal(8, rows.Single(r => r.Key == "pillow__truncated_image.png").Row);

        // The tenth row opens the shard's second row group: rows are numbered across groups.
        Assert.Equal(9, truncated.Row);
    }
}
