using DataflowContrastive.Ingest;

namespace DataflowContrastive.Tests.Ingest;

public sealed class IngestOptionsTests
{
    [Fact]
    public void Defaults_are_the_documented_ones_and_valid()
    {
        var options = new IngestOptions();

        options.Validate();
        Assert.Equal(512L * 1024 * 1024, options.MaxRowGroupBytes);
        Assert.Equal(64L * 1024 * 1024, options.MaxValueBytes);
        Assert.Equal(3, options.RetryCount);
        Assert.Equal(TimeSpan.FromMilliseconds(200), options.RetryBaseDelay);
    }

    [Theory]
    [InlineData(nameof(IngestOptions.MaxRowGroupBytes))]
    [InlineData(nameof(IngestOptions.MaxValueBytes))]
    [InlineData(nameof(IngestOptions.RetryCount))]
    [InlineData(nameof(IngestOptions.RetryBaseDelay))]
    public void A_bad_value_is_refused_naming_its_property(string property)
    {
        IngestOptions options = property switch
        {
            nameof(IngestOptions.MaxRowGroupBytes) => new IngestOptions { MaxRowGroupBytes = 0 },
            nameof(IngestOptions.MaxValueBytes) => new IngestOptions { MaxValueBytes = -1 },
            nameof(IngestOptions.RetryCount) => new IngestOptions { RetryCount = -1 },
            _ => new IngestOptions { RetryBaseDelay = TimeSpan.Zero },
        };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal(property, error.ParamName);
    }
}
