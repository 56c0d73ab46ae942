using DataflowContrastive.Host.Running;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace DataflowContrastive.Host.Serving;

/// <summary>Registers the services of <c>dfc serve</c>.</summary>
public static class ServeServiceCollectionExtensions
{
    /// <summary>
    /// Adds the service that serves <paramref name="options"/>' pipelines, its health check, and a shutdown timeout
    /// of <paramref name="grace"/>: how long a stop request waits for in-flight work to stop.
    /// </summary>
    public static IServiceCollection AddServe(this IServiceCollection services, ServeOptions options, TimeSpan grace)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.AddSingleton(options);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<RunOutcome>();
        services.AddSingleton<ServeHealth>();
        services.AddHealthChecks().AddCheck<ServeHealth>("pipelines");
        services.AddHostedService<ServeService>();
        services.Configure<HostOptions>(o => o.ShutdownTimeout = grace);
        return services;
    }
}
