using System.Text;

namespace BoxBot.Sandbox.Sdk.Tests;

[Category("python")]
public sealed class AttachTests
{
    [Test]
    public async Task An_attached_file_keeps_the_bytes_it_had_at_attach_time()
    {
        using var job = new PythonJob();
        var json = (await job.RunAsync("""
            os.makedirs("out", exist_ok=True)
            with open("out/report.txt", "w") as f:
                f.write("original")
            first = bb.output.attach("out/report.txt")
            with open("out/report.txt", "w") as f:
                f.write("swapped afterwards")
            second = bb.output.attach(bb.workspace.path() + "/./out//report.txt")
            print(json.dumps({"first": first, "second": second}))
            """)).Json();

        Assert.That(json.GetProperty("first").GetString(), Is.EqualTo("report.txt"));
        Assert.That(json.GetProperty("second").GetString(), Is.EqualTo("report-2.txt"));
        Assert.That(job.Session.Attachments.Select(a => (a.Name, Encoding.UTF8.GetString(a.Content))),
            Is.EqualTo(new[] { ("report.txt", "original"), ("report-2.txt", "swapped afterwards") }));
    }

    [TestCase("", "../etc/passwd", TestName = "Attach_refuses_a_parent_path")]
    [TestCase("", "/etc/passwd", TestName = "Attach_refuses_an_absolute_path_outside_the_workspace")]
    [TestCase("", "/workspace/../etc/passwd", TestName = "Attach_refuses_dot_dot_under_the_workspace_prefix")]
    [TestCase("", "/workspacex/passwd", TestName = "Attach_refuses_a_sibling_of_the_workspace_prefix")]
    [TestCase("os.symlink('/etc/passwd', 'passwd')", "passwd", TestName = "Attach_refuses_a_symlink_to_etc_passwd")]
    [TestCase("os.symlink('/etc', 'etc')", "etc/passwd", TestName = "Attach_refuses_a_path_through_a_symlinked_folder")]
    [TestCase("open('real', 'w').write('x'); os.symlink('real', 'link')", "link", TestName = "Attach_refuses_a_symlink_even_inside_the_workspace")]
    [TestCase("os.mkdir('folder')", "folder", TestName = "Attach_refuses_a_directory")]
    [TestCase("", ".", TestName = "Attach_refuses_the_workspace_itself")]
    [TestCase("os.mkfifo('fifo')", "fifo", TestName = "Attach_refuses_a_fifo_without_blocking_on_it")]
    [TestCase("open('big', 'wb').write(b'x' * 4097)", "big", TestName = "Attach_refuses_a_file_over_the_size_cap")]
    [TestCase("open('a', 'w').write('x'); os.link('a', 'b')", "b", TestName = "Attach_refuses_a_file_with_other_hard_links")]
    [TestCase("", "missing.txt", TestName = "Attach_refuses_a_missing_file")]
    public async Task Attach_refuses(string setup, string path)
    {
        using var job = new PythonJob(o => o with { MaxAttachmentBytes = 4096 });
        var json = (await job.RunAsync($"""
            {setup}
            print(json.dumps(attempt(bb.output.attach, {PythonJob.PythonString(path)})))
            """)).Json();

        Assert.That(json.TryGetProperty("code", out var code), Is.True, json.ToString());
        Assert.That(code.GetInt32(), Is.EqualTo(SdkErrorCodes.AttachmentRefused));
        Assert.That(job.Session.Attachments, Is.Empty);
    }

    [Test]
    public async Task A_file_exactly_at_the_size_cap_is_accepted()
    {
        using var job = new PythonJob(o => o with { MaxAttachmentBytes = 4096 });
        (await job.RunAsync("""
            open("edge", "wb").write(b"y" * 4096)
            print(json.dumps(bb.output.attach("edge")))
            """)).Json();

        Assert.That(job.Session.Attachments.Single().Content, Has.Length.EqualTo(4096));
    }

    [Test]
    public async Task The_seventeenth_attachment_is_refused()
    {
        using var job = new PythonJob();
        var json = (await job.RunAsync("""
            open("f.txt", "w").write("x")
            results = [attempt(bb.output.attach, "f.txt") for _ in range(17)]
            print(json.dumps(results))
            """)).Json();

        var results = json.EnumerateArray().ToArray();
        Assert.That(results.Take(16).Select(r => r.TryGetProperty("ok", out _)), Is.All.True);
        Assert.That(results[16].GetProperty("code").GetInt32(), Is.EqualTo(SdkErrorCodes.AttachmentRefused));
        Assert.That(job.Session.Attachments, Has.Count.EqualTo(16));
        Assert.That(job.Session.Attachments.Select(a => a.Name).Distinct().Count(), Is.EqualTo(16));
    }
}
