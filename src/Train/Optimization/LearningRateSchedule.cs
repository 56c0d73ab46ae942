namespace DataflowContrastive.Train;

/// <summary>Linear warm-up followed by a cosine decay to zero, as in CLIP and open_clip.</summary>
public static class LearningRateSchedule
{
    /// <summary>The learning rate for the 0-based <paramref name="step"/>.</summary>
    /// <remarks>
    /// During warm-up step s uses <c>peak·(s+1)/warmup</c>: the ramp starts from 0 but the first step already
    /// learns, and the last warm-up step reaches the peak. After it the rate follows
    /// <c>peak·(1 + cos(π·e/E))/2</c> with e = step − warmup and E = total − warmup, reaching 0 at
    /// <paramref name="total"/>. Steps at or past <paramref name="total"/> get 0.
    /// </remarks>
    /// <param name="step">0-based step index.</param>
    /// <param name="warmup">Number of warm-up steps; 0 for none.</param>
    /// <param name="total">Total number of steps in the run.</param>
    /// <param name="peak">Learning rate at the end of warm-up.</param>
    public static double At(int step, int warmup, int total, double peak)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentOutOfRangeException.ThrowIfNegative(warmup);
        ArgumentOutOfRangeException.ThrowIfLessThan(total, 1);
        if (!double.IsFinite(peak) || peak < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(peak), peak, "The peak learning rate must be 0 or more.");
        }

        if (step >= total)
        {
            return 0;
        }
        if (step < warmup)
        {
            return peak * (step + 1) / warmup;
        }

        double progress = (double)(step - warmup) / (total - warmup);
        return 0.5 * (1 + Math.Cos(Math.PI * progress)) * peak;
    }
}
