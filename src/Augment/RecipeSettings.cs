namespace DataflowContrastive.Augment;

/// <summary>A recipe's effective settings, after the options' explicit values override its defaults.</summary>
/// <param name="Name">Recipe name.</param>
/// <param name="ScaleMin">Smallest crop area fraction.</param>
/// <param name="ScaleMax">Largest crop area fraction.</param>
/// <param name="FlipProbability">Probability of a horizontal flip.</param>
public sealed record RecipeSettings(string Name, double ScaleMin, double ScaleMax, double FlipProbability)
{
    /// <summary>The recipe names understood.</summary>
    public static IReadOnlyList<string> Names { get; } = ["clip", "simclr", "supcon", "eval"];

    internal static RecipeSettings For(AugmentOptions o)
    {
        // Published values: open_clip's training transform (scale 0.9-1, no flip); SimCLR (0.08-1, flip 0.5);
        // SupCon (0.2-1, flip 0.5). The eval recipe's crop settings are unused by the evaluation transform.
        (double scaleMin, double flip) = o.Recipe switch
        {
            "simclr" => (0.08, 0.5),
            "supcon" => (0.2, 0.5),
            _ => (0.9, 0.0),
        };
        return new RecipeSettings(o.Recipe, o.ScaleMin ?? scaleMin, o.ScaleMax ?? 1.0, o.FlipProbability ?? flip);
    }
}
