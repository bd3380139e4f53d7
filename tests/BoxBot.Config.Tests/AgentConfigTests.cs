namespace BoxBot.Config.Tests;

/// <summary>[agent]: where approved packages come from. pip reaches the index before any human saw what it offers.</summary>
public class AgentConfigTests
{
    private TempDir _dir = null!;

    [SetUp]
    public void SetUp() => _dir = new TempDir();

    [TearDown]
    public void TearDown() => _dir.Dispose();

    [Test]
    public void By_default_packages_come_from_pypi_over_https_and_no_local_folder()
    {
        var a = AgentOptions.Default;

        Assert.That(a.PackageIndexUrl, Is.EqualTo(new Uri("https://pypi.org/simple")));
        Assert.That(a.PackageFindLinks, Is.Empty);
    }

    [Test]
    public void The_package_settings_are_read_from_the_file()
    {
        var path = _dir.Write("boxbot.toml",
            "[agent]\npackage_index_url = \"https://mirror.example.org/pypi/simple\"\npackage_find_links = \"/srv/wheels\"\n");

        var a = ConfigLoader.Load(path).Config.Agent;

        Assert.That(a, Is.EqualTo(new AgentOptions("", new Uri("https://mirror.example.org/pypi/simple"), "/srv/wheels")));
    }

    [TestCase("http://127.0.0.1:8080/simple")]
    [TestCase("http://[::1]:3141/root/pypi/")]
    [TestCase("http://localhost/simple")]
    public void Plain_http_is_accepted_to_a_loopback_mirror(string url)
    {
        var a = ConfigLoader.Parse($"[agent]\npackage_index_url = \"{url}\"\n", "t.toml").Config.Agent;

        Assert.That(a.PackageIndexUrl, Is.EqualTo(new Uri(url)));
    }

    [Test]
    public void An_empty_index_url_means_no_index()
    {
        var a = ConfigLoader.Parse("[agent]\npackage_index_url = \"\"\npackage_find_links = \"/srv/wheels\"\n", "t.toml").Config.Agent;

        Assert.That(a.PackageIndexUrl, Is.Null);
    }

    [TestCase("package_index_url = \"http://pypi.org/simple\"", "agent.package_index_url: must use https://")]
    [TestCase("package_index_url = \"http://10.0.0.5/simple\"", "agent.package_index_url: must use https://")]
    [TestCase("package_index_url = \"ftp://mirror/simple\"", "agent.package_index_url: must be \"\" (no index) or an https:// URL")]
    [TestCase("package_index_url = \"file:///srv/index\"", "agent.package_index_url: must be \"\" (no index) or an https:// URL")]
    [TestCase("package_index_url = \"pypi.org/simple\"", "agent.package_index_url: must be \"\" (no index) or an https:// URL")]
    [TestCase("package_index_url = \"https://pypi.org/simple?x=1\"", "agent.package_index_url: must be \"\" (no index) or an https:// URL")]
    [TestCase("package_find_links = \"wheels\"", "agent.package_find_links: must be \"\" or an absolute path")]
    [TestCase("package_find_links = \"/srv/../etc\"", "agent.package_find_links: must be \"\" or an absolute path")]
    [TestCase("package_find_links = \"https://example.org/wheels/\"", "agent.package_find_links: must be \"\" or an absolute path")]
    public void Unsafe_package_sources_are_refused_with_their_location(string line, string expected)
    {
        var path = _dir.Write("boxbot.toml", "[agent]\n" + line + "\n");

        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path))!;

        Assert.That(ex.Message, Does.StartWith($"{path}:2:").And.Contain(expected));
    }

    [Test]
    public void An_index_url_with_credentials_is_refused_without_echoing_them()
    {
        var path = _dir.Write("boxbot.toml", "[agent]\npackage_index_url = \"https://user:hunter2@mirror.example.org/simple\"\n");

        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path))!;

        Assert.That(ex.Message, Does.Contain("agent.package_index_url: must not contain a user or password").And.Not.Contain("hunter2"));
    }
}
