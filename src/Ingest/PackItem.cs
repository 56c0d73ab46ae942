namespace DataflowContrastive.Ingest;

/// <summary>One image and its caption on their way into a shard.</summary>
/// <param name="Key">A key unique within the pack.</param>
/// <param name="Image">The encoded image file's bytes, stored as they are.</param>
/// <param name="Caption">The caption, if any.</param>
/// <param name="Label">The class label, if any.</param>
/// <param name="Path">The image's file name or relative path, kept in the image struct's <c>path</c> field.</param>
public sealed record PackItem(string Key, byte[] Image, string? Caption, string? Label, string? Path);

/// <summary>An image of a COCO captions file with what its attribution needs.</summary>
/// <param name="Id">COCO's image id.</param>
/// <param name="FileName">The image's file name.</param>
/// <param name="FlickrUrl">Where the photo was published.</param>
/// <param name="LicenseId">COCO's licence id.</param>
/// <param name="LicenseName">The licence's name, as the captions file gives it.</param>
/// <param name="LicenseUrl">The licence's URL, as the captions file gives it.</param>
public sealed record CocoImage(long Id, string FileName, string? FlickrUrl, int LicenseId, string? LicenseName,
    string? LicenseUrl);
