using DataflowContrastive.Train;

namespace DataflowContrastive.Tests.Train;

public class DuplicateMaskTests
{
    [Fact]
    public void Rows_sharing_an_image_or_a_caption_are_marked_and_the_diagonal_is_not()
    {
        // Pairs 0 and 2 show the same image; pairs 1 and 2 carry the same caption.
        bool[] mask = DuplicateMask.FromKeys([10, 11, 10], [7, 8, 8]);

        bool[] expected =
        [
            false, false, true,
            false, false, true,
            true, true, false,
        ];
        Assert.Equal(expected, mask);
    }

    [Fact]
    public void Without_caption_keys_only_images_are_compared()
    {
        bool[] expected = [false, true, true, false];

        Assert.Equal(expected, DuplicateMask.FromKeys([3, 3], []));
    }

    [Fact]
    public void Caption_keys_of_another_length_are_refused()
    {
        Assert.Throws<ArgumentException>(() => DuplicateMask.FromKeys([1, 2], [1]));
    }
}
