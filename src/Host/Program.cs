using DataflowContrastive.Host.Commands;

using var interrupt = new CancellationTokenSource();

return await CommandLine.DispatchAsync(args, interrupt.Token);
