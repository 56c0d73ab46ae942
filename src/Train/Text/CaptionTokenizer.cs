using Microsoft.ML.Tokenizers;

namespace DataflowContrastive.Train;

/// <summary>
/// Turns a caption into a fixed-length row of token ids for the text encoder, using GPT-2's byte-pair encoding.
/// </summary>
/// <remarks>
/// A row reads <c>[start-of-text] caption tokens [end-of-text] 0 0 ...</c>. The two markers are new ids placed after
/// GPT-2's 50,257 tokens: <see cref="StartOfText"/> is 50257 and <see cref="EndOfText"/> is 50258, so end-of-text is
/// the largest id in every row and the text encoder finds it with an argmax, as CLIP does. GPT-2's own
/// <c>&lt;|endoftext|&gt;</c> (50256) is left as an ordinary token. Padding is 0, which is also GPT-2's id for "!";
/// the causal mask keeps padding from reaching the end-of-text position, so the overlap does no harm.
/// No text normalisation is applied: case and Unicode forms are kept as written. <see cref="Encode"/> may be called
/// from several threads at once; a test compares parallel encoding with serial encoding.
/// </remarks>
public sealed class CaptionTokenizer
{
    /// <summary>Number of ids in GPT-2's byte-pair vocabulary, <c>&lt;|endoftext|&gt;</c> included.</summary>
    public const int Gpt2VocabularySize = 50257;

    /// <summary>Id that opens every row.</summary>
    public const int StartOfText = Gpt2VocabularySize;

    /// <summary>Id that closes every row's caption; the largest id a row can hold.</summary>
    public const int EndOfText = Gpt2VocabularySize + 1;

    private readonly TiktokenTokenizer _bpe;

    /// <summary>Creates a tokenizer whose rows hold <paramref name="contextLength"/> ids.</summary>
    /// <param name="contextLength">Row length, markers included; at least 2.</param>
    public CaptionTokenizer(int contextLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(contextLength, 2);
        ContextLength = contextLength;
        _bpe = TiktokenTokenizer.CreateForModel("gpt2");
    }

    /// <summary>Number of ids in every row, start- and end-of-text included.</summary>
    public int ContextLength { get; }

    /// <summary>Number of distinct ids a row can hold: GPT-2's vocabulary plus the two markers.</summary>
    public int VocabularySize { get; } = Gpt2VocabularySize + 2;

    /// <summary>Writes the row for <paramref name="caption"/> into <paramref name="tokens"/>.</summary>
    /// <param name="caption">The caption text.</param>
    /// <param name="tokens">Destination of exactly <see cref="ContextLength"/> ids.</param>
    /// <returns><see langword="true"/> when the caption was cut to fit; end-of-text still closes the row.</returns>
    public bool Encode(string caption, Span<long> tokens)
    {
        ArgumentNullException.ThrowIfNull(caption);
        if (tokens.Length != ContextLength)
        {
            throw new ArgumentException(
                $"The destination holds {tokens.Length} ids but a row needs exactly {ContextLength}.", nameof(tokens));
        }

        IReadOnlyList<int> ids = _bpe.EncodeToIds(
            caption, ContextLength - 2, out _, out int charsConsumed, considerPreTokenization: true,
            considerNormalization: false);

        tokens.Clear();
        tokens[0] = StartOfText;
        for (int i = 0; i < ids.Count; i++)
        {
            tokens[i + 1] = ids[i];
        }
        tokens[ids.Count + 1] = EndOfText;
        return charsConsumed < caption.Length;
    }

    /// <summary>Turns a row back into text, dropping the markers and the padding after end-of-text.</summary>
    /// <param name="tokens">A row written by <see cref="Encode"/>.</param>
    public string Decode(ReadOnlySpan<long> tokens)
    {
        var ids = new List<int>(tokens.Length);
        foreach (long id in tokens)
        {
            if (id == EndOfText)
            {
                break;
            }
            if (id != StartOfText)
            {
                ids.Add(checked((int)id));
            }
        }
        return _bpe.Decode(ids);
    }
}
