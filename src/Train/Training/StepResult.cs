namespace DataflowContrastive.Train;

/// <summary>What one optimisation step did.</summary>
/// <param name="Step">Number of steps completed, this one included (1 after the first step).</param>
/// <param name="Loss">The contrastive loss of the batch, before the update.</param>
/// <param name="LearningRate">The learning rate this step used.</param>
/// <param name="Temperature">The inverse temperature min(exp(t), 100) after the update.</param>
/// <param name="Skipped">
/// True when the loss or a gradient was NaN or infinite, so the weights and the optimiser state were left as they were.
/// </param>
public sealed record StepResult(int Step, double Loss, double LearningRate, double Temperature, bool Skipped = false);
