using BoxBot.Contracts;

namespace BoxBot.Config.Tests;

[NonParallelizable]
public class CredentialStoreTests
{
    private TempDir _dir = null!;
    private EnvScope _env = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = new TempDir();
        Directory.CreateDirectory(_dir.File("credentials"));
        _env = new EnvScope()
            .Set(CredentialStore.DirectoryVariable, null)
            .Set(CredentialStore.EnvFileVariable, null);
    }

    [TearDown]
    public void TearDown()
    {
        _env.Dispose();
        _dir.Dispose();
    }

    private string Cred(string name, string value, string mode = "600") =>
        _dir.Write(Path.Combine("credentials", name), value, Modes.Octal(mode));

    private CredentialStore Store(string? envFile = null) => new(_dir.File("credentials"), envFile);

    [Test]
    public void A_credential_is_read_from_the_folder_without_its_trailing_newline()
    {
        Cred("llm-api-key", "sk-123\n");

        Assert.That(Store().TryGet("llm-api-key"), Is.EqualTo("sk-123"));
        Assert.That(Store().Get("llm-api-key"), Is.EqualTo("sk-123"));
    }

    [Test]
    public void An_empty_credential_file_is_not_set_for_TryGetSet_but_still_checked()
    {
        Cred("llm-api-key", "\n");
        Cred("mesh-password", "", "644");

        Assert.That(Store().TryGet("llm-api-key"), Is.EqualTo(""));
        Assert.That(Store().TryGetSet("llm-api-key"), Is.Null);
        Assert.That(Store().TryGetSet("whatsapp-access-token"), Is.Null);
        // Empty or not, a file others may read is refused, never skipped.
        Assert.Throws<CredentialException>(() => Store().TryGetSet("mesh-password"));
    }

    [Test]
    public void A_credential_is_read_from_the_env_file_by_its_name_or_its_upper_snake_name()
    {
        var env = _dir.Write("dev.env", """
            # development secrets

            WHATSAPP_APP_SECRET=app-secret
            llm-api-key = "sk-quoted"
            MESH_PASSWORD=a=b
            """);

        var store = new CredentialStore(null, env);

        Assert.That(store.TryGet("whatsapp-app-secret"), Is.EqualTo("app-secret"));
        Assert.That(store.TryGet("llm-api-key"), Is.EqualTo("sk-quoted"));
        Assert.That(store.TryGet("mesh-password"), Is.EqualTo("a=b"));
        Assert.That(store.TryGet("whatsapp-access-token"), Is.Null);
    }

    [Test]
    public void The_folder_wins_over_the_env_file()
    {
        Cred("llm-api-key", "from-folder");
        var env = _dir.Write("dev.env", "LLM_API_KEY=from-env\n");

        Assert.That(Store(env).TryGet("llm-api-key"), Is.EqualTo("from-folder"));
    }

    [Test]
    public void A_credential_absent_everywhere_is_null()
    {
        var env = _dir.Write("dev.env", "OTHER=1\n");

        Assert.That(Store(env).TryGet("llm-api-key"), Is.Null);
        Assert.That(new CredentialStore(null, null).TryGet("llm-api-key"), Is.Null);
    }

    [TestCase("640")]
    [TestCase("604")]
    [TestCase("620")]
    [TestCase("660")]
    [TestCase("644")]
    public void A_credential_file_that_group_or_others_can_access_is_refused_with_the_fix(string mode)
    {
        var path = Cred("llm-api-key", "sk-123", mode);

        var ex = Assert.Throws<CredentialException>(() => Store().TryGet("llm-api-key"))!;

        Assert.That(ex.Path, Is.EqualTo(path));
        Assert.That(ex.Message, Does.Contain(path));
        Assert.That(ex.Message, Does.Contain($"chmod 600 {path}"));
        Assert.That(ex.Message, Does.Contain($"0{mode}"));
        Assert.That(ex.Message, Does.Not.Contain("sk-123"));
    }

    [TestCase("400")]
    [TestCase("600")]
    public void A_credential_file_private_to_its_owner_is_accepted(string mode)
    {
        Cred("llm-api-key", "sk-123", mode);

        Assert.That(Store().TryGet("llm-api-key"), Is.EqualTo("sk-123"));
    }

    [Test]
    public void A_group_readable_env_file_is_refused_with_the_fix()
    {
        var env = _dir.Write("dev.env", "LLM_API_KEY=sk\n", Modes.Octal("640"));

        var ex = Assert.Throws<CredentialException>(() => new CredentialStore(null, env).TryGet("llm-api-key"))!;

        Assert.That(ex.Path, Is.EqualTo(env));
        Assert.That(ex.Message, Does.Contain($"chmod 600 {env}"));
    }

    [Test]
    public void A_symlinked_credential_is_refused_even_when_its_target_is_private()
    {
        var target = _dir.Write("elsewhere", "sk-123");
        var link = _dir.File(Path.Combine("credentials", "llm-api-key"));
        File.CreateSymbolicLink(link, target);

        var ex = Assert.Throws<CredentialException>(() => Store().TryGet("llm-api-key"))!;

        Assert.That(ex.Path, Is.EqualTo(link));
        Assert.That(ex.Message, Does.Contain("symbolic link"));
    }

    [Test]
    public void A_symlinked_env_file_is_refused()
    {
        var target = _dir.Write("real.env", "LLM_API_KEY=sk\n");
        var link = _dir.File("dev.env");
        File.CreateSymbolicLink(link, target);

        Assert.Throws<CredentialException>(() => new CredentialStore(null, link).TryGet("llm-api-key"));
    }

    [Test]
    public void A_folder_in_place_of_a_credential_is_refused()
    {
        Directory.CreateDirectory(_dir.File(Path.Combine("credentials", "llm-api-key")));

        var ex = Assert.Throws<CredentialException>(() => Store().TryGet("llm-api-key"))!;

        Assert.That(ex.Message, Does.Contain("not a regular file"));
    }

    [Test]
    [Category("root")]
    public void A_credential_owned_by_another_user_is_refused()
    {
        Assume.That(Environment.IsPrivilegedProcess, "needs root to give the file away");
        var path = Cred("llm-api-key", "sk-123");
        Chown(path, 65534);

        var ex = Assert.Throws<CredentialException>(() => Store().TryGet("llm-api-key"))!;

        Assert.That(ex.Message, Does.Contain($"{path} is owned by uid 65534"));
        Assert.That(ex.Message, Does.Contain($"chmod 600 {path}"));
    }

    [Test]
    public void CREDENTIALS_DIRECTORY_wins_over_the_development_folder()
    {
        var systemd = _dir.File("systemd-creds");
        Directory.CreateDirectory(systemd);
        _dir.Write(Path.Combine("systemd-creds", "llm-api-key"), "from-systemd");
        Cred("llm-api-key", "from-dev");
        _env.Set(CredentialStore.DirectoryVariable, systemd);

        var store = CredentialStore.FromEnvironment(BoxPaths.UnderHome(_dir.Path));

        Assert.That(store.Directory, Is.EqualTo(systemd));
        Assert.That(store.TryGet("llm-api-key"), Is.EqualTo("from-systemd"));
    }

    [Test]
    public void Credentials_written_by_systemd_are_accepted_although_they_show_as_group_readable()
    {
        // systemd gives the unit's user access with an ACL entry, which stat reports as group bits (0440).
        var systemd = _dir.File("systemd-creds");
        Directory.CreateDirectory(systemd);
        _dir.Write(Path.Combine("systemd-creds", "llm-api-key"), "from-systemd", Modes.Octal("440"));
        _env.Set(CredentialStore.DirectoryVariable, systemd);

        Assert.That(CredentialStore.FromEnvironment(BoxPaths.Installed).TryGet("llm-api-key"), Is.EqualTo("from-systemd"));
        Assert.Throws<CredentialException>(() => new CredentialStore(systemd, null).TryGet("llm-api-key"));
    }

    [Test]
    public void A_symlink_in_CREDENTIALS_DIRECTORY_is_still_refused()
    {
        var systemd = _dir.File("systemd-creds");
        Directory.CreateDirectory(systemd);
        File.CreateSymbolicLink(Path.Combine(systemd, "llm-api-key"), _dir.Write("elsewhere", "sk"));
        _env.Set(CredentialStore.DirectoryVariable, systemd);

        Assert.Throws<CredentialException>(() => CredentialStore.FromEnvironment(BoxPaths.Installed).TryGet("llm-api-key"));
    }

    [Test]
    public void The_development_folder_is_used_only_in_the_development_layout()
    {
        Assert.That(CredentialStore.FromEnvironment(BoxPaths.Installed).Directory, Is.Null);
        Assert.That(CredentialStore.FromEnvironment(BoxPaths.UnderHome(_dir.Path)).Directory, Is.EqualTo(_dir.File("credentials")));
    }

    [Test]
    public void BOXBOT_ENV_FILE_adds_the_env_file()
    {
        var env = _dir.Write("dev.env", "LLM_API_KEY=from-env\n");
        _env.Set(CredentialStore.EnvFileVariable, env);

        var store = CredentialStore.FromEnvironment(BoxPaths.Installed);

        Assert.That(store.EnvFile, Is.EqualTo(env));
        Assert.That(store.TryGet("llm-api-key"), Is.EqualTo("from-env"));
    }

    [Test]
    public void A_missing_credential_says_where_to_put_it()
    {
        var env = _dir.Write("dev.env", "");

        var ex = Assert.Throws<CredentialException>(() => Store(env).Get("whatsapp-access-token"))!;

        var expectedPath = _dir.File(Path.Combine("credentials", "whatsapp-access-token"));
        Assert.That(ex.Message, Does.StartWith($"credential 'whatsapp-access-token' is missing: put it in {expectedPath} (mode 0600)"));
        Assert.That(ex.Message, Does.Contain($"or add WHATSAPP_ACCESS_TOKEN=... to {env}"));
        Assert.That(ex.Path, Is.EqualTo(expectedPath));
    }

    [Test]
    public void An_empty_credential_is_refused_by_Get()
    {
        Cred("llm-api-key", "\n");

        Assert.That(Store().TryGet("llm-api-key"), Is.EqualTo(""));
        Assert.That(() => Store().Get("llm-api-key"), Throws.TypeOf<CredentialException>().With.Message.Contains("is empty"));
    }

    [Test]
    public void A_malformed_env_file_line_names_file_and_line_but_not_the_value()
    {
        var env = _dir.Write("dev.env", "# secrets\nLLM_API_KEY=ok\nhunter2-secret-value\n");

        var ex = Assert.Throws<CredentialException>(() => new CredentialStore(null, env).TryGet("llm-api-key"))!;

        Assert.That(ex.Message, Does.StartWith($"{env}:3: malformed line"));
        Assert.That(ex.Message, Does.Not.Contain("hunter2"));
    }

    [Test]
    public void A_name_set_twice_in_the_env_file_is_refused_without_the_values()
    {
        var env = _dir.Write("dev.env", "LLM_API_KEY=first-secret\nLLM_API_KEY=second-secret\n");

        var ex = Assert.Throws<CredentialException>(() => new CredentialStore(null, env).TryGet("llm-api-key"))!;

        Assert.That(ex.Message, Does.StartWith($"{env}:2: LLM_API_KEY is set twice"));
        Assert.That(ex.Message, Does.Not.Contain("secret"));
    }

    [TestCase("../llm-api-key")]
    [TestCase("/etc/shadow")]
    [TestCase("")]
    public void A_credential_name_cannot_be_a_path(string name)
    {
        Assert.Throws<ArgumentException>(() => Store().TryGet(name));
    }

    [Test]
    public void The_catalog_names_each_credential_once_and_a_real_daemon_for_each()
    {
        Assert.That(Credentials.All.Select(c => c.Name), Is.Unique);
        Assert.That(Credentials.All.Select(c => Daemons.Find(c.UsedBy)), Has.None.Null);
        Assert.That(Credentials.All.Where(c => c.GeneratedForDevelopment).Select(c => c.Name),
            Is.EquivalentTo(new[] { "whatsapp-app-secret", "whatsapp-verify-token" }));
        Assert.That(Credentials.Find("mesh-password")?.UsedBy, Is.EqualTo("plugin-host"));
        Assert.That(Credentials.Find("nope"), Is.Null);
    }

    private static void Chown(string path, int uid)
    {
        using var process = System.Diagnostics.Process.Start("chown", [uid.ToString(System.Globalization.CultureInfo.InvariantCulture), path]);
        process.WaitForExit();
        Assert.That(process.ExitCode, Is.Zero);
    }
}
