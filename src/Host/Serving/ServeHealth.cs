using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace DataflowContrastive.Host.Serving;

/// <summary>
/// The service's health: unhealthy while any pipeline's latest pass failed (it is being retried), healthy otherwise.
/// </summary>
public sealed class ServeHealth : IHealthCheck
{
    private readonly ConcurrentDictionary<string, string> _failing = new(StringComparer.Ordinal);

    /// <summary>Marks <paramref name="pipeline"/> as failing for <paramref name="reason"/>.</summary>
    public void Failed(string pipeline, string reason) => _failing[pipeline] = reason;

    /// <summary>Marks <paramref name="pipeline"/> as working again.</summary>
    public void Succeeded(string pipeline) => _failing.TryRemove(pipeline, out _);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context,
        CancellationToken cancellationToken = default) =>
        Task.FromResult(_failing.IsEmpty
            ? HealthCheckResult.Healthy("every pipeline is serving")
            : HealthCheckResult.Unhealthy(string.Join("; ", _failing.Select(f => $"{f.Key}: {f.Value}"))));
}

/// <summary>
/// Answers <c>GET /healthz</c> on a loopback port: 200 and <c>Healthy</c>, or 503 and the report. It is meant for a
/// local probe (systemd, a load balancer's agent); nothing else is served.
/// </summary>
public sealed class HealthEndpoint(int port, HealthCheckService checks) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/healthz/");
        listener.Start();
        using CancellationTokenRegistration stopListening = stoppingToken.Register(listener.Stop);
        while (!stoppingToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (HttpListenerException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (ObjectDisposedException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            await AnswerAsync(context, stoppingToken);
        }
    }

    private async Task AnswerAsync(HttpListenerContext context, CancellationToken cancellationToken)
    {
        HealthReport report = await checks.CheckHealthAsync(cancellationToken);
        string text = report.Status == HealthStatus.Healthy
            ? "Healthy\n"
            : $"{report.Status}\n{string.Join('\n', report.Entries.Select(e => e.Value.Description))}\n";
        byte[] body = System.Text.Encoding.UTF8.GetBytes(text);
        context.Response.StatusCode = report.Status == HealthStatus.Healthy ? 200 : 503;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.OutputStream.WriteAsync(body, cancellationToken);
        context.Response.Close();
    }
}
