using BoxBot.Contracts;

namespace BoxBot.Config.Tests;

[NonParallelizable]
public class BoxPathsTests
{
    [Test]
    public void Without_BOXBOT_HOME_the_installed_layout_is_used()
    {
        using var env = new EnvScope().Set(BoxPaths.HomeVariable, null);

        var paths = BoxPaths.FromEnvironment();

        Assert.That(paths, Is.EqualTo(BoxPaths.Installed));
        Assert.That(paths.IsDevelopment, Is.False);
        Assert.That(paths.ConfigFile, Is.EqualTo("/etc/boxbot/boxbot.toml"));
        Assert.That(paths.CredentialsDir, Is.EqualTo("/etc/boxbot/credentials"));
        Assert.That(paths.RuntimeDir, Is.EqualTo("/run/boxbot"));
        Assert.That(paths.StateRoot, Is.EqualTo("/var/lib"));
    }

    [Test]
    public void An_empty_BOXBOT_HOME_counts_as_unset()
    {
        using var env = new EnvScope().Set(BoxPaths.HomeVariable, "");

        Assert.That(BoxPaths.FromEnvironment(), Is.EqualTo(BoxPaths.Installed));
    }

    [Test]
    public void With_BOXBOT_HOME_everything_lives_under_that_folder()
    {
        using var env = new EnvScope().Set(BoxPaths.HomeVariable, "/tmp/bb-home/");

        var paths = BoxPaths.FromEnvironment();

        Assert.That(paths.IsDevelopment, Is.True);
        Assert.That(paths.Home, Is.EqualTo("/tmp/bb-home"));
        Assert.That(paths.ConfigFile, Is.EqualTo("/tmp/bb-home/boxbot.toml"));
        Assert.That(paths.CredentialsDir, Is.EqualTo("/tmp/bb-home/credentials"));
        Assert.That(paths.RuntimeDir, Is.EqualTo("/tmp/bb-home/run"));
        Assert.That(paths.StateRoot, Is.EqualTo("/tmp/bb-home/state"));
    }

    [Test]
    public void A_relative_BOXBOT_HOME_is_made_absolute_against_the_current_folder()
    {
        using var env = new EnvScope().Set(BoxPaths.HomeVariable, ".boxbot-dev");

        var paths = BoxPaths.FromEnvironment();

        Assert.That(paths.Home, Is.EqualTo(Path.Combine(Environment.CurrentDirectory, ".boxbot-dev")));
        Assert.That(Path.IsPathFullyQualified(paths.ConfigFile), Is.True);
    }

    [Test]
    public void Sockets_and_state_folders_are_named_by_the_daemon()
    {
        var dev = BoxPaths.UnderHome("/srv/bb");

        Assert.That(BoxPaths.Installed.SocketPath(Daemons.PluginHost), Is.EqualTo("/run/boxbot/plugins.sock"));
        Assert.That(BoxPaths.Installed.StateDir(Daemons.Agent), Is.EqualTo("/var/lib/boxbot"));
        Assert.That(dev.SocketPath(Daemons.Sandbox), Is.EqualTo("/srv/bb/run/sandbox.sock"));
        Assert.That(dev.StateDir(Daemons.Webhook), Is.EqualTo("/srv/bb/state/boxbot-webhook"));
    }
}
