using SkiaSharp;

namespace DataflowContrastive.Augment;

/// <summary>What a transform needs from a decode, decided once the header is known.</summary>
/// <param name="AtLeast">Smallest upright size acceptable for a reduced-scale JPEG decode; null for full size.</param>
/// <param name="Region">
/// The upright full-size pixels that will be read; null for all. A JPEG may then be decoded only around them.
/// </param>
internal readonly record struct DecodePlan(SKSizeI? AtLeast, SKRectI? Region)
{
    /// <summary>A plan that serves both: the larger of the two sizes, the region around both regions.</summary>
    public DecodePlan Covering(DecodePlan other)
    {
        SKSizeI? atLeast = AtLeast is { } a && other.AtLeast is { } b
            ? new SKSizeI(Math.Max(a.Width, b.Width), Math.Max(a.Height, b.Height)) : null;
        return new DecodePlan(atLeast, Region is { } r && other.Region is { } s ? SKRectI.Union(r, s) : null);
    }
}
