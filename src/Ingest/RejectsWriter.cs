using Parquet;
using Parquet.Schema;

namespace DataflowContrastive.Ingest;

/// <summary>
/// Collects <see cref="Rejection"/>s into a Parquet file with the columns shard, row, key, reason, bytes and code.
/// Appends are buffered and written in row groups; the file is written to <c>path + ".tmp"</c> and renamed to
/// its path on <see cref="DisposeAsync"/>, so a complete file is all a reader ever sees. Appends are
/// thread-safe.
/// </summary>
public sealed class RejectsWriter : IAsyncDisposable
{
    /// <summary>Default of <see cref="RowGroupSize"/>.</summary>
    public const int DefaultRowGroupSize = 1024;

    private static readonly DataField ShardField = new("shard", typeof(string), isNullable: false);
    private static readonly DataField RowField = new("row", typeof(long), isNullable: true);
    private static readonly DataField KeyField = new("key", typeof(string), isNullable: true);
    private static readonly DataField ReasonField = new("reason", typeof(string), isNullable: false);
    private static readonly DataField BytesField = new("bytes", typeof(byte[]), isNullable: true);
    private static readonly DataField CodeField = new("code", typeof(string), isNullable: true);
    private static readonly ParquetSchema Schema =
        new(ShardField, RowField, KeyField, ReasonField, BytesField, CodeField);

    private readonly string _path;
    private readonly string _temporaryPath;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<Rejection> _buffer = [];
    private Stream? _stream;
    private ParquetWriter? _writer;
    private bool _disposed;

    /// <summary>Creates a writer for <paramref name="path"/>; the file appears when the writer is disposed.</summary>
    public RejectsWriter(string path)
        : this(path, DefaultRowGroupSize)
    {
    }

    /// <summary>Creates a writer that flushes every <paramref name="rowGroupSize"/> rejections.</summary>
    public RejectsWriter(string path, int rowGroupSize)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(rowGroupSize, 1);
        _path = Path.GetFullPath(path);
        _temporaryPath = _path + ".tmp";
        RowGroupSize = rowGroupSize;
    }

    /// <summary>How many rejections one row group holds at most.</summary>
    public int RowGroupSize { get; }

    /// <summary>How many rejections were appended so far.</summary>
    public long Count { get; private set; }

    /// <summary>Adds <paramref name="rejection"/>; a full buffer is written out as one row group.</summary>
    public async ValueTask AppendAsync(Rejection rejection, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(rejection);
        await _gate.WaitAsync(ct);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _buffer.Add(rejection);
            Count++;
            if (_buffer.Count >= RowGroupSize)
            {
                await FlushAsync(ct);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Writes what is buffered, completes the file and moves it to its final path.</summary>
    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            await FlushAsync(CancellationToken.None);
            if (_writer is null)
            {
                // Nothing was rejected: an empty file with the schema still tells a reader "none".
                await OpenAsync(CancellationToken.None);
            }
            await _writer!.DisposeAsync();
            await _stream!.DisposeAsync();
            File.Move(_temporaryPath, _path, overwrite: true);
        }
        finally
        {
            // The gate is left undisposed: it holds no wait handle, and a second DisposeAsync must still find it.
            _gate.Release();
        }
    }

    private async Task OpenAsync(CancellationToken ct)
    {
        string? folder = Path.GetDirectoryName(_path);
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }
        _stream = new FileStream(_temporaryPath, FileMode.Create, FileAccess.ReadWrite, FileShare.None);
        _writer = await ParquetWriter.CreateAsync(Schema, _stream, null, false, ct);
    }

    private async Task FlushAsync(CancellationToken ct)
    {
        if (_buffer.Count == 0)
        {
            return;
        }
        if (_writer is null)
        {
            await OpenAsync(ct);
        }

        using (ParquetRowGroupWriter group = _writer!.CreateRowGroup())
        {
            await group.WriteAsync(ShardField, _buffer.Select(r => r.Shard).ToArray(), null);
            await group.WriteAsync<long>(RowField, _buffer.Select(r => r.Row).ToArray().AsMemory(), null, null, ct);
            await group.WriteAsync(KeyField, _buffer.Select(r => r.Key).ToArray(), null);
            await group.WriteAsync(ReasonField, _buffer.Select(r => r.Reason).ToArray(), null);
            await group.WriteAsync(BytesField, _buffer.Select(r => r.Bytes).ToArray(), null);
            await group.WriteAsync(CodeField, _buffer.Select(r => r.Code).ToArray(), null);
            group.CompleteValidate();
        }
        _buffer.Clear();
    }
}
