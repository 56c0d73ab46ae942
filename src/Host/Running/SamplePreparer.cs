using System.Buffers;
using DataflowContrastive.Augment;
using DataflowContrastive.Host.Pipelines;
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

    /// <summary>
    /// The second augmented view (same layout and pool as <see cref="Pixels"/>) in the two-view modes, else null.
    /// </summary>
    public float[]? SecondView { get; init; }

    /// <summary>The class id of the sample's label where the run uses labels, else -1.</summary>
    public int LabelId { get; init; } = -1;

    /// <summary>Identities for CLIP's false negatives: a hash of the image bytes and of the normalised caption.
    /// </summary>
    public (long Image, long Caption) DuplicateKeys { get; init; }

    /// <summary>
    /// Set on the last sample of a class-balanced batch: the indices of samples that arrived before it but wait,
    /// unbatched, for their class to fill. A resumed run reads them again; see <see cref="ClassBalancedBatcher"/>.
    /// </summary>
    public IReadOnlyList<long> HeldBack { get; set; } = [];

    /// <summary>Gives the pixel buffers back to the pool once the batch has been collated.</summary>
    public void Return()
    {
        ArrayPool<float>.Shared.Return(Pixels);
        if (SecondView is not null)
        {
            ArrayPool<float>.Shared.Return(SecondView);
        }
    }

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

    /// <summary>
    /// The contrastive mode: <see cref="ContrastiveMode.Clip"/> (the default) needs a caption and tokenises it; the
    /// image-only modes need no caption and make two training views, seeded by view index 0 and 1.
    /// </summary>
    public ContrastiveMode Mode { get; init; } = ContrastiveMode.Clip;

    /// <summary>
    /// The class ids of the data set's labels, when the run needs them (<c>supcon</c>): a sample without a label
    /// is then rejected as <c>label-missing</c>. Null when labels are not used.
    /// </summary>
    public LabelMap? Labels { get; init; }

    /// <summary>True to compute <see cref="PreparedSample.DuplicateKeys"/> (hashing each image's bytes).</summary>
    public bool DuplicateKeys { get; init; }

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
        if (raw.ProblemCode is { } code)
        {
            await RejectAsync(raw, code, raw.Problem!, cancellation);
            return null;
        }
        if (raw.Image is null || raw.Image.Length == 0)
        {
            await RejectAsync(raw, "image-missing", "the row has no image bytes", cancellation);
            return null;
        }
        bool captioned = Mode == ContrastiveMode.Clip;
        if (captioned && string.IsNullOrWhiteSpace(raw.Caption))
        {
            await RejectAsync(raw, "caption-missing", "the caption is null, empty or blank", cancellation);
            return null;
        }
        int labelId = -1;
        if (Labels is not null && (raw.Label is null || !Labels.TryGetId(raw.Label, out labelId)))
        {
            await RejectAsync(raw, "label-missing", "the row has no class label, which mode: supcon needs",
                cancellation);
            return null;
        }

        float[] pixels = ArrayPool<float>.Shared.Rent(_pixelCount);
        float[]? second = train && !captioned ? ArrayPool<float>.Shared.Rent(_pixelCount) : null;
        try
        {
            Transform(raw.Image, sample, train, pixels, second);
        }
        catch (ImageRejectedException e)
        {
            ArrayPool<float>.Shared.Return(pixels);
            if (second is not null)
            {
                ArrayPool<float>.Shared.Return(second);
            }
            await RejectAsync(raw, "image-" + e.Reason, e.Message, cancellation);
            return null;
        }

        // Kept, as the caption still says most of what it said; counted, so that a broken source shows up.
        if (raw.CaptionHadInvalidUtf8)
        {
            _recorder.Note("caption-invalid-utf8", raw.Shard, raw.Row);
        }
        long[] tokens = captioned ? new long[_tokenizer.ContextLength] : [];
        if (captioned && _tokenizer.Encode(raw.Caption!, tokens))
        {
            _recorder.Note("caption-truncated", raw.Shard, raw.Row);
        }
        return new PreparedSample
        {
            Epoch = sample.Epoch,
            Index = sample.Index,
            Key = raw.Key,
            Caption = raw.Caption ?? "",
            Pixels = pixels,
            Tokens = tokens,
            SecondView = second,
            LabelId = labelId,
            DuplicateKeys = DuplicateKeys ? FalseNegativeKeys.Of(raw.Image, raw.Caption ?? "") : default,
        };
    }

    // Each view has its own seed, so the pixels never depend on which thread prepares the sample or when; the two
    // views of the image-only modes come from one decode.
    private void Transform(byte[] image, OrderedSample sample, bool train, float[] destination, float[]? second)
    {
        Span<float> first = destination.AsSpan(0, _pixelCount);
        if (!train)
        {
            _transform.ApplyEval(image, first);
        }
        else if (second is null)
        {
            _transform.ApplyTrain(image, Seed(sample, 0), first);
        }
        else
        {
            _transform.ApplyTrainPair(image, Seed(sample, 0), first, Seed(sample, 1), second.AsSpan(0, _pixelCount));
        }
    }

    private SampleSeed Seed(OrderedSample sample, int view) => new(_seed, sample.Epoch, sample.Index, view);

    private ValueTask RejectAsync(RawSample raw, string code, string reason, CancellationToken cancellation) =>
        _recorder.RejectAsync(new Rejection(raw.Shard, raw.Row, raw.Key, reason, raw.Image), code, cancellation);
}
