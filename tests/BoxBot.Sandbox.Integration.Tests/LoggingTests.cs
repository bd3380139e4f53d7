using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace BoxBot.Sandbox.Integration.Tests;

[Category("root")]
public sealed class LoggingTests
{
    [Test]
    public async Task The_log_names_the_job_and_its_outcome_but_never_a_secret_value_or_the_script()
    {
        var logger = new ListLogger();
        await using var runner = new SandboxRunner(SandboxFixture.Options("logging"), logger);
        var r = await runner.RunAsync(new JobRequest
        {
            Script = "import os\nprint(len(os.environ['BOXBOT_SECRET_DB_PASSWORD']))  # script-marker-91c2",
            Secrets = new Dictionary<string, string> { ["DB_PASSWORD"] = "hunter2-value-5d1a" },
        });
        Assert.That(r.Stdout, Is.EqualTo("18\n"), Jobs.Describe(r));
        var log = string.Join('\n', logger.Lines);
        Assert.That(log, Does.Contain(r.JobId).And.Contain("ok"));
        Assert.That(log, Does.Not.Contain("hunter2").And.Not.Contain("script-marker"));
    }

    private sealed class ListLogger : ILogger
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Enqueue($"{logLevel} {eventId.Name} {formatter(state, exception)} {exception}");
    }
}
