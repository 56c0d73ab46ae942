namespace DataflowContrastive.Ingest;

/// <summary>An image of a COCO captions file with what its attribution needs.</summary>
/// <param name="Id">COCO's image id.</param>
/// <param name="FileName">The image's file name.</param>
/// <param name="FlickrUrl">Where the photo was published.</param>
/// <param name="LicenseId">COCO's licence id.</param>
/// <param name="LicenseName">The licence's name, as the captions file gives it.</param>
/// <param name="LicenseUrl">The licence's URL, as the captions file gives it.</param>
public sealed record CocoImage(long Id, string FileName, string? FlickrUrl, int LicenseId, string? LicenseName,
    string? LicenseUrl);
