using DataflowContrastive.Train;

namespace DataflowContrastive.Tests.Train;

public class CaptionTokenizerTests
{
    private const int Sot = CaptionTokenizer.StartOfText;
    private const int Eot = CaptionTokenizer.EndOfText;

    private static readonly CaptionTokenizer Tokenizer = new(8);

    [Fact]
    public void Known_gpt2_ids_sit_between_the_markers_and_padding_follows()
    {
        var tokens = new long[8];

        bool truncated = Tokenizer.Encode("hello world!", tokens);

        // GPT-2: "hello" = 31373, " world" = 995, "!" = 0.
        Assert.False(truncated);
        Assert.Equal(new long[] { Sot, 31373, 995, 0, Eot, 0, 0, 0 }, tokens);
    }

    [Fact]
    public void Markers_follow_the_gpt2_vocabulary_and_end_of_text_is_the_largest_id()
    {
        Assert.Equal(50257, CaptionTokenizer.StartOfText);
        Assert.Equal(50258, CaptionTokenizer.EndOfText);
        Assert.Equal(50259, Tokenizer.VocabularySize);
        Assert.Equal(8, Tokenizer.ContextLength);
    }

    [Fact]
    public void Empty_caption_is_start_then_end_of_text()
    {
        var tokens = new long[8];

        Assert.False(Tokenizer.Encode("", tokens));
        Assert.Equal(new long[] { Sot, Eot, 0, 0, 0, 0, 0, 0 }, tokens);
    }

    [Fact]
    public void Long_caption_is_cut_reported_and_still_closed_by_end_of_text()
    {
        var tokenizer = new CaptionTokenizer(4);
        var tokens = new long[4];

        bool truncated = tokenizer.Encode("hello world hello world", tokens);

        Assert.True(truncated);
        Assert.Equal(new long[] { Sot, 31373, 995, Eot }, tokens);
    }

    [Fact]
    public void Caption_that_exactly_fits_is_not_reported_as_cut()
    {
        var tokenizer = new CaptionTokenizer(4);
        var tokens = new long[4];

        Assert.False(tokenizer.Encode("hello world", tokens));
        Assert.Equal(new long[] { Sot, 31373, 995, Eot }, tokens);
    }

    [Theory]
    [InlineData("一只猫坐在窗台上")]
    [InlineData("猫が好き 🐱🐶 and café")]
    [InlineData("  leading spaces, Ünïcödé, emoji 👩‍👩‍👧 ")]
    public void Non_latin_text_and_emoji_survive_a_round_trip(string caption)
    {
        var tokenizer = new CaptionTokenizer(64);
        var tokens = new long[64];

        Assert.False(tokenizer.Encode(caption, tokens));
        Assert.Equal(caption, tokenizer.Decode(tokens));
    }

    [Fact]
    public void Destination_of_the_wrong_length_is_refused()
    {
        Assert.Throws<ArgumentException>(() => Tokenizer.Encode("hello", new long[7]));
    }

    [Fact]
    public void Encoding_from_several_threads_matches_encoding_serially()
    {
        string[] captions = [.. Enumerable.Range(0, 200).Select(i => $"caption {i} of a dog on a beach {i * 7}")];
        long[][] serial = [.. captions.Select(Encode)];

        long[][] parallel = [.. captions.AsParallel().AsOrdered().WithDegreeOfParallelism(4).Select(Encode)];

        Assert.Equal(serial, parallel);

        static long[] Encode(string caption)
        {
            var tokens = new long[8];
            Tokenizer.Encode(caption, tokens);
            return tokens;
        }
    }
}
