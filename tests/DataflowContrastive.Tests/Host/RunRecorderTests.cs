using System.Diagnostics.Metrics;
using DataflowContrastive.Host.Running;
using DataflowContrastive.Ingest;
using Parquet;
using Parquet.Schema;

namespace DataflowContrastive.Tests.Host;

public sealed class RunRecorderTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("dfc-recorder-").FullName;
    private readonly ManualClock _clock = new();
    private readonly CapturingLogger _log = new();

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task Sealed_parts_are_read_back_by_a_resumed_run_which_counts_them_and_never_records_them_twice()
    {
        string parts = Path.Combine(_work, "rejects");
        await using (RunRecorder first = await RunRecorder.OpenPartsAsync(parts, _log, CancellationToken.None))
        {
            await first.RejectAsync(new Rejection("a", 1, "a:1", "truncated", null), "image-truncated", default);
            await first.SealPartAsync(CancellationToken.None);
            await first.RejectAsync(new Rejection("a", 2, "a:2", "blank", null), "caption-missing", default);
            await first.SealPartAsync(CancellationToken.None);
        }

        await using RunRecorder resumed = await RunRecorder.OpenPartsAsync(parts, _log, CancellationToken.None);
        await resumed.RejectAsync(new Rejection("a", 2, "a:2", "blank", null), "caption-missing", default);
        await resumed.RejectAsync(new Rejection("b", 7, "b:7", "blank", null), "caption-missing", default);
        await resumed.SealPartAsync(CancellationToken.None);

        // By hand: a:1 and a:2 from the first process, b:7 new; a:2 again is the same row and is not recorded.
        Assert.Equal(new Dictionary<string, long> { ["image-truncated"] = 1, ["caption-missing"] = 2 },
            resumed.RejectedByReason.ToDictionary());
        Assert.Equal(["part-00000-", "part-00001-", "part-00002-"],
            Directory.GetFiles(parts).Select(p => Path.GetFileName(p)[..11]).Order(StringComparer.Ordinal));
        Assert.All(Directory.GetFiles(parts), p => Assert.Matches("^part-[0-9]{5}-[0-9a-f]{8}\\.parquet$",
            Path.GetFileName(p)));
        long rows = 0;
        foreach (string part in Directory.GetFiles(parts))
        {
            rows += await new ShardReader(new IngestOptions()).CountRowsAsync(part, CancellationToken.None);
        }
        Assert.Equal(3, rows);
    }

    // Two workers of one served pipeline open the folder at the same moment: each finds the same parts there and
    // would number its first part alike, yet neither part replaces the other's.
    [Fact]
    public async Task Two_recorders_sharing_a_parts_folder_keep_every_rejection_of_both()
    {
        string parts = Path.Combine(_work, "rejects");
        await using RunRecorder first = await RunRecorder.OpenPartsAsync(parts, _log, CancellationToken.None);
        await using RunRecorder second = await RunRecorder.OpenPartsAsync(parts, _log, CancellationToken.None);

        await first.RejectAsync(new Rejection("a", 1, "a:1", "truncated", null), "image-truncated", default);
        await second.RejectAsync(new Rejection("b", 1, "b:1", "blank", null), "caption-missing", default);
        await second.RejectAsync(new Rejection("b", 2, "b:2", "blank", null), "caption-missing", default);
        await first.SealPartAsync(CancellationToken.None);
        await second.SealPartAsync(CancellationToken.None);

        Assert.Equal(2, Directory.GetFiles(parts, "part-00000-*.parquet").Length);
        await using RunRecorder reader = await RunRecorder.OpenPartsAsync(parts, _log, CancellationToken.None);
        Assert.Equal(new Dictionary<string, long> { ["image-truncated"] = 1, ["caption-missing"] = 2 },
            reader.RejectedByReason.ToDictionary());
    }

    [Fact]
    public async Task A_burst_of_one_reason_is_warned_about_once_per_five_seconds_but_every_rejection_is_counted()
    {
        await using (RunRecorder recorder = NewRecorder())
        {
            for (int row = 0; row < 1000; row++)
            {
                await RejectAsync(recorder, row, "image-truncated");
            }
            _clock.Advance(TimeSpan.FromSeconds(4.9));
            await RejectAsync(recorder, 1000, "image-truncated");
            await RejectAsync(recorder, 1001, "caption-missing");
            _clock.Advance(TimeSpan.FromSeconds(0.2));
            await RejectAsync(recorder, 1002, "image-truncated");

            Assert.Equal(1002, recorder.RejectedByReason["image-truncated"]);
            Assert.Equal(1, recorder.RejectedByReason["caption-missing"]);
        }

        // One warning at the start, one for the other reason, one when five seconds had passed.
        Assert.Equal(3, _log.Warnings.Count);
        Assert.Contains("(1 rejected for this reason so far)", _log.Warnings[0], StringComparison.Ordinal);
        Assert.Contains("(1002 rejected for this reason so far)", _log.Warnings[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_whole_shard_rejection_is_warned_about_as_the_whole_shard()
    {
        await using (RunRecorder recorder = NewRecorder())
        {
            await recorder.RejectShardAsync(
                new ShardException("/d/b.parquet", null, "holds links") { Code = ShardException.LinksOnly }, default);
        }

        Assert.Equal("Rejected the whole shard /d/b.parquet: holds links (1 rejected for this reason so far)",
            Assert.Single(_log.Warnings));
    }

    // Row 1 is counted on another thread after row 0 is counted but before row 0's warning is written: the warning
    // for row 0 must still give the count row 0 made. The counter's listener runs between the two, on each thread.
    [Fact]
    public async Task The_count_in_a_warning_is_the_one_its_own_rejection_made()
    {
        string code = "test-race-" + Guid.NewGuid().ToString("N");
        using var secondCounted = new SemaphoreSlim(0);
        using var firstWarned = new SemaphoreSlim(0);
        int counted = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == RunRecorder.MeterName && instrument.Name == "dfc.samples.rejected")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            if (!tags.ToArray().Any(t => Equals(t.Value, code)))
            {
                return;
            }
            if (Interlocked.Increment(ref counted) == 1)
            {
                Assert.True(secondCounted.Wait(TimeSpan.FromSeconds(10)));
            }
            else
            {
                secondCounted.Release();
                Assert.True(firstWarned.Wait(TimeSpan.FromSeconds(10)));
            }
        });
        listener.Start();

        await using (RunRecorder recorder = NewRecorder())
        {
            Task first = Task.Run(async () =>
            {
                await RejectAsync(recorder, 0, code);
                firstWarned.Release();
            });
            while (Volatile.Read(ref counted) == 0)
            {
                await Task.Delay(1);
            }
            await Task.WhenAll(first, Task.Run(async () => await RejectAsync(recorder, 1, code)));
        }

        Assert.Equal("Rejected /d/a.parquet row 0: bad row 0 (1 rejected for this reason so far)",
            Assert.Single(_log.Warnings));
    }

    [Fact]
    public async Task The_same_row_rejected_twice_is_counted_and_written_once_with_its_code()
    {
        string rejects = Path.Combine(_work, "rejects.parquet");
        await using (RunRecorder recorder = NewRecorder(rejects))
        {
            await RejectAsync(recorder, 3, "image-corrupt");
            await RejectAsync(recorder, 3, "image-corrupt");
            await recorder.RejectShardAsync(
                new ShardException("/d/b.parquet", null, "holds links") { Code = ShardException.LinksOnly }, default);
        }

        List<(string? Code, string? Reason, long? Row)> rows = await ReadRejectsAsync(rejects);
        Assert.Equal([("image-corrupt", "bad row 3", 3L), (ShardException.LinksOnly, "holds links", null)], rows);
    }

    [Fact]
    public async Task Rejections_and_notes_are_published_as_counters_tagged_with_their_reason()
    {
        var seen = new List<(string Instrument, long Value, string? Reason)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == RunRecorder.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        string shard = Path.Combine(_work, Guid.NewGuid().ToString("N"));
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? reason = tags.ToArray().FirstOrDefault(t => t.Key == "reason").Value as string;
            lock (seen)
            {
                seen.Add((instrument.Name, value, reason));
            }
        });
        listener.Start();

        // Other tests record on the same meter at the same time, so this test's codes are its own.
        string rejectCode = "test-reject-" + Guid.NewGuid().ToString("N");
        string noteCode = "test-note-" + Guid.NewGuid().ToString("N");
        await using (RunRecorder recorder = NewRecorder())
        {
            await recorder.RejectAsync(new Rejection(shard, 0, "k", "gone", null), rejectCode, default);
            recorder.Note(noteCode, shard, 1);
            recorder.Note(noteCode, shard, 1);
        }

        lock (seen)
        {
            Assert.Single(seen, m => m == ("dfc.samples.rejected", 1L, rejectCode));
            Assert.Single(seen, m => m == ("dfc.samples.noted", 1L, noteCode));
        }
    }

    private RunRecorder NewRecorder(string? rejects = null) =>
        new(rejects ?? Path.Combine(_work, Guid.NewGuid().ToString("N") + ".parquet"), _log, _clock);

    private static ValueTask RejectAsync(RunRecorder recorder, long row, string code) =>
        recorder.RejectAsync(new Rejection("/d/a.parquet", row, $"k{row}", $"bad row {row}", null), code, default);

    private static async Task<List<(string? Code, string? Reason, long? Row)>> ReadRejectsAsync(string path)
    {
        await using ParquetReader reader = await ParquetReader.CreateAsync(path);
        DataField[] fields = reader.Schema.GetDataFields();
        ParquetRowGroupReader group = reader.OpenRowGroupReader(0);
        int n = (int)group.RowCount;
        string?[] reasons = new string?[n], codes = new string?[n];
        long?[] rows = new long?[n];
        await group.ReadAsync<long>(fields.Single(f => f.Name == "row"), rows.AsMemory());
        await group.ReadAsync(fields.Single(f => f.Name == "reason"), reasons.AsMemory());
        await group.ReadAsync(fields.Single(f => f.Name == "code"), codes.AsMemory());
        return [.. Enumerable.Range(0, n).Select(i => (codes[i], reasons[i], rows[i]))];
    }

    private sealed class ManualClock : TimeProvider
    {
        private long _ticks = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
