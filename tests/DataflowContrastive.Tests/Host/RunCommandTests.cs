using DataflowContrastive.Host.Commands;
using DataflowContrastive.Host.Pipelines;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DataflowContrastive.Tests.Host;

public sealed class RunCommandTests
{
    [Fact]
    public void An_unknown_option_is_named()
    {
        var e = Assert.Throws<ArgumentException>(() => RunCommand.Parse(["multi.yaml", "--resum"]));

        Assert.Equal("unknown option '--resum'.", e.Message);
    }

    [Fact]
    public void The_pipeline_file_and_resume_anyway_are_read_in_any_order()
    {
        RunCommand.Arguments parsed = RunCommand.Parse(["--resume-anyway", "a.yaml"]);

        Assert.Equal(("a.yaml", true), (parsed.File, parsed.Options.ResumeAnyway));
    }

    [Fact]
    public void Two_pipeline_files_are_refused_naming_both()
    {
        var e = Assert.Throws<ArgumentException>(() => RunCommand.Parse(["a.yaml", "b.yaml"]));

        Assert.Contains("a.yaml, b.yaml", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_given_as_the_pipeline_file_is_refused_as_a_folder()
    {
        string folder = Directory.CreateTempSubdirectory("dfc-run-").FullName;
        try
        {
            var e = Assert.Throws<PipelineFileException>(() => PipelineFileReader.Read(folder));

            Assert.Equal("this is a folder, not a pipeline file", Assert.Single(e.Errors).Reason);
        }
        finally
        {
            Directory.Delete(folder);
        }
    }

    [Fact]
    public void A_one_shot_job_logs_no_host_lifetime_messages_but_its_own_and_lifetime_warnings()
    {
        var services = new ServiceCollection();
        services.AddLogging(RunCommand.AddLogging);
        using ServiceProvider provider = services.BuildServiceProvider();
        ILoggerFactory factory = provider.GetRequiredService<ILoggerFactory>();

        Assert.False(factory.CreateLogger("Microsoft.Hosting.Lifetime").IsEnabled(LogLevel.Information));
        Assert.True(factory.CreateLogger("Microsoft.Hosting.Lifetime").IsEnabled(LogLevel.Warning));
        Assert.True(
            factory.CreateLogger("DataflowContrastive.Host.Running.PipelineJob").IsEnabled(LogLevel.Information));
    }
}
