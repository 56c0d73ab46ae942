using DataflowContrastive.Host.Export;

namespace DataflowContrastive.Tests.Host;

public sealed class NpyTests
{
    [Fact]
    public void A_float16_matrix_has_the_byte_layout_of_npy_version_1()
    {
        using var stream = new MemoryStream();

        Npy.WriteFloat16(stream, [1.0f, -2.0f, 0.5f, 65504f], 2, 2);

        // By hand: magic, version 1.0, header length 118 (so that 10 + 118 = 128, a multiple of 64), the dict padded
        // with spaces and ended by a newline, then float16 1.0 = 0x3C00, -2.0 = 0xC000, 0.5 = 0x3800, 65504 = 0x7BFF.
        byte[] bytes = stream.ToArray();
        Assert.Equal(128 + 8, bytes.Length);
        Assert.Equal([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 118, 0], bytes[..10]);
        string header = System.Text.Encoding.ASCII.GetString(bytes, 10, 118);
        Assert.Equal("{'descr': '<f2', 'fortran_order': False, 'shape': (2, 2), }".PadRight(117) + "\n", header);
        Assert.Equal([0x00, 0x3C, 0x00, 0xC0, 0x00, 0x38, 0xFF, 0x7B], bytes[128..]);
    }

    [Fact]
    public void A_vector_shape_keeps_the_trailing_comma_of_a_python_tuple()
    {
        using var stream = new MemoryStream();

        Npy.WriteInt64(stream, [7L, 8L, 9L], 3);

        NpyArray array = NpyArray.Read(stream.ToArray());
        Assert.Equal("<i8", array.Descr);
        Assert.Equal([3L], array.Shape);
        Assert.Contains("'shape': (3,)", array.Header, StringComparison.Ordinal);
    }

    [Fact]
    public void Values_that_do_not_fill_the_shape_are_refused()
    {
        using var stream = new MemoryStream();

        Assert.Throws<ArgumentException>(() => Npy.WriteFloat32(stream, [1f, 2f, 3f], 2, 2));
    }
}
