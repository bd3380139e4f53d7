using System.Text.Json;
using BoxBot.Cli.Internal;
using BoxBot.Contracts;

namespace BoxBot.Integration.Tests;

/// <summary>The one table from a daemon's JSON-RPC error to what the person sees and the exit code (no I/O).</summary>
public class FailuresTests
{
    [TestCase(RpcErrorCodes.InvalidParams, 2, "usage", "--to '12' is not a number")]
    [TestCase(RpcErrorCodes.Refused, 1, "refused", "refused: --to '12' is not a number")]
    [TestCase(RpcErrorCodes.NotFound, 1, "not_found", "--to '12' is not a number")]
    [TestCase(RpcErrorCodes.Upstream, 1, "upstream", "--to '12' is not a number")]
    [TestCase(RpcErrorCodes.Unavailable, 1, "unavailable", "--to '12' is not a number")]
    [TestCase(RpcErrorCodes.Timeout, 1, "timeout", "--to '12' is not a number")]
    public void Each_code_has_one_class_one_exit_code_and_keeps_the_daemons_words(int code, int exit, string kind, string text)
    {
        var failure = Failures.Classify(code, "--to '12' is not a number", "agent");

        Assert.That((failure.ExitCode, failure.Kind, failure.Text), Is.EqualTo((exit, kind, text)));
    }

    [Test]
    public void No_code_reads_as_json_rpc_jargon()
    {
        foreach (var code in new[] { -32700, -32600, -32601, -32602, -32603, -32001, -32002, -32003, -32004, -32005, -32006, -32007, -32008, -32009, -32099 })
        {
            var text = Failures.Classify(code, "what happened", "agent").Text;
            Assert.That(text, Does.Not.StartWith("invalid params").And.Not.StartWith("error -"), code.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.That(text, Does.Contain("what happened"));
        }
    }

    [Test]
    public void Unauthorized_says_which_group_and_busy_says_try_again_once()
    {
        Assert.That(Failures.Classify(RpcErrorCodes.Unauthorized, "not for uid 1000", "agent").Text, Does.Contain("boxbot-admin").And.StartWith("refused: "));
        Assert.That(Failures.Classify(RpcErrorCodes.Busy, "16 jobs waiting; try again later", "sandbox").Text, Is.EqualTo("busy: 16 jobs waiting; try again later"));
        Assert.That(Failures.Classify(RpcErrorCodes.Busy, "too many connections", "agent").Text, Does.EndWith("; try again in a moment"));
        Assert.That(Failures.Classify(RpcErrorCodes.MethodNotFound, "mesh.devices", "plugin-host").Text, Does.Contain("another boxbot version"));
    }

    [Test]
    public void The_json_form_of_a_failure_is_one_document_with_kind_message_and_exit_code()
    {
        using var doc = JsonDocument.Parse(Failures.JsonDocumentFor(new Failure(2, "usage", "--last -1: 0 or more; é + \"q\"")));

        var error = doc.RootElement.GetProperty("error");
        Assert.That(error.GetProperty("kind").GetString(), Is.EqualTo("usage"));
        Assert.That(error.GetProperty("message").GetString(), Is.EqualTo("--last -1: 0 or more; é + \"q\""));
        Assert.That(error.GetProperty("exit_code").GetInt32(), Is.EqualTo(2));
        Assert.That(Failures.JsonDocumentFor(new Failure(1, "failed", "a+b")), Does.Contain("a+b"), "no \\u002B for people to read");
    }
}
