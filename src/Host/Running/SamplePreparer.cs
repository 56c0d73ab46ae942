using System.Buffers;
using DataflowContrastive.Augment;
using DataflowContrastive.Ingest;
using DataflowContrastive.Train;

namespace DataflowContrastive.Host.Running;

/// <summary>A sample ready for a batch: normalised pixels (CHW, from a pool) and caption tokens.</summary>
public sealed class PreparedSample
{
    public required int Epoch { get; init; }

    /// <summary>The sample's index in its epoch's order.</summary>
    public required long Index { get; init; }

    public required string Key { get; init; }

    public required string Caption { get; init; }

    /// <summary>
    /// 3 x size x size floats, rented from <see cref="ArrayPool{T}.Shared"/>; see <see cref="Return"/>.
    /// </summary>
    public required float[] Pixels { get; init; }

    public required long[] Tokens { get; init; }

    /// <summary>Gives the pixel buffer back to the pool once the batch has been collated.</summary>
    public void Return() => ArrayPool<float>.Shared.Return(Pixels);

    /// <summary>Copies a batch into contiguous buffers: images as N x 3 x S x S floats, tokens as N x L.</summary>
    public static void Collate(PreparedSample[] batch, int pixels, float[] images, long[] tokens)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(tokens);
        int context = batch[0].Tokens.Length;
        for (int i = 0; i < batch.Length; i++)
        {
            batch[i].Pixels.AsSpan(0, pixels).CopyTo(images.AsSpan(i * pixels, pixels));
            batch[i].Tokens.CopyTo(tokens.AsSpan(i * context, context));
        }
    }
}

/// <summary>
/// Turns a raw sample into a <see cref="PreparedSample"/>, or records why it cannot be one. This is the work of the
/// parallel decode stage, so it holds no state of its own beyond thread-safe parts.
/// </summary>
public sealed class SamplePreparer
{
    private readonly ImageTransform _transform;
    private readonly CaptionTokenizer _tokenizer;
    private readonly RunRecorder _recorder;
    private readonly long _seed;
    private readonly int _pixelCount;
    private long _good;
    private long _processed;

    public SamplePreparer(ImageTransform transform, CaptionTokenizer tokenizer, RunRecorder recorder, long seed,
        int imageSize)
    {
        ArgumentNullException.ThrowIfNull(transform);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(recorder);
        _transform = transform;
        _tokenizer = tokenizer;
        _recorder = recorder;
        _seed = seed;
        _pixelCount = 3 * imageSize * imageSize;
    }

    /// <summary>Samples prepared successfully so far.</summary>
    public long Good => Interlocked.Read(ref _good);

    /// <summary>Samples handled so far, prepared or rejected.</summary>
    public long Processed => Interlocked.Read(ref _processed);

    /// <summary>Prepares one sample with the training augmentation, or with the evaluation transform.</summary>
    /// <returns>The prepared sample, or null when it was rejected (and recorded).</returns>
    public async Task<PreparedSample?> PrepareAsync(OrderedSample sample, bool train, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(sample);
        try
        {
            PreparedSample? prepared = await PrepareCoreAsync(sample, train, cancellation);
            if (prepared is not null)
            {
                Interlocked.Increment(ref _good);
            }
            return prepared;
        }
        finally
        {
            Interlocked.Increment(ref _processed);
        }
    }

    private async Task<PreparedSample?> PrepareCoreAsync(OrderedSample sample, bool train,
        CancellationToken cancellation)
    {
        RawSample raw = sample.Raw;
        if (raw.Problem is not null)
        {
            await RejectAsync(raw, "row-unreadable", raw.Problem, cancellation);
            return null;
        }
        if (raw.Image is null || raw.Image.Length == 0)
        {
            await RejectAsync(raw, "image-missing", "the row has no image bytes", cancellation);
            return null;
        }
        if (string.IsNullOrWhiteSpace(raw.Caption))
        {
            await RejectAsync(raw, "caption-missing", "the caption is null, empty or blank", cancellation);
            return null;
        }

        float[] pixels = ArrayPool<float>.Shared.Rent(_pixelCount);
        try
        {
            if (train)
            {
                _transform.ApplyTrain(raw.Image, new SampleSeed(_seed, sample.Epoch, sample.Index, 0),
                    pixels.AsSpan(0, _pixelCount));
            }
            else
            {
                _transform.ApplyEval(raw.Image, pixels.AsSpan(0, _pixelCount));
            }
        }
        catch (ImageRejectedException e)
        {
            ArrayPool<float>.Shared.Return(pixels);
            await RejectAsync(raw, "image-" + e.Reason, e.Message, cancellation);
            return null;
        }

        // Kept, as the caption still says most of what it said; counted, so that a broken source shows up.
        if (raw.CaptionHadInvalidUtf8)
        {
            _recorder.Note("caption-invalid-utf8", raw.Shard, raw.Row);
        }
        var tokens = new long[_tokenizer.ContextLength];
        if (_tokenizer.Encode(raw.Caption, tokens))
        {
            _recorder.Note("caption-truncated", raw.Shard, raw.Row);
        }
        return new PreparedSample
        {
            Epoch = sample.Epoch,
            Index = sample.Index,
            Key = raw.Key,
            Caption = raw.Caption,
            Pixels = pixels,
            Tokens = tokens,
        };
    }

    private ValueTask RejectAsync(RawSample raw, string code, string reason, CancellationToken cancellation) =>
        _recorder.RejectAsync(new Rejection(raw.Shard, raw.Row, raw.Key, reason, raw.Image), code, cancellation);
}
