using System.Text;
using BoxBot.Contracts;

namespace BoxBot.Cli.Internal;

/// <summary>Reads the script `boxbot sandbox run FILE` names, with a failure that says what is wrong with the path rather than an exception.</summary>
internal static class ScriptFile
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <remarks>Read synchronously: a script is at most 256 KiB, and an asynchronous read would wake a pool thread for it.</remarks>
    public static async Task<(string? Script, Failure? Failure)> ReadAsync(string path, CancellationToken cancellationToken)
    {
        if (path == "-")
        {
            using var stdin = Console.OpenStandardInput();
            using var copy = new MemoryStream();
            await stdin.CopyToAsync(copy, cancellationToken);
            return Decode("stdin", copy.ToArray());
        }
        if (Directory.Exists(path))
        {
            return Usage($"{path} is a folder, not a file: give the path of the Python script to run");
        }
        if (!File.Exists(path))
        {
            return Usage($"{path}: no such file");
        }
        byte[] bytes;
        try
        {
            // A larger file is refused before it is read whole.
            var length = new FileInfo(path).Length;
            if (length > SandboxRunRequest.MaxScriptBytes)
            {
                return Usage(TooLarge(path, length));
            }
            bytes = File.ReadAllBytes(path);
        }
        catch (UnauthorizedAccessException)
        {
            return (null, new Failure(ExitCodes.Failure, Failures.Kinds.Failed,
                $"{path}: permission denied: this command reads the script as you ({Environment.UserName}) and hands its text to the agent"));
        }
        catch (IOException e)
        {
            return (null, new Failure(ExitCodes.Failure, Failures.Kinds.Failed, $"{path}: cannot be read: {e.Message}"));
        }
        return Decode(path, bytes);
    }

    private static (string? Script, Failure? Failure) Decode(string path, byte[] bytes)
    {
        if (bytes.Length > SandboxRunRequest.MaxScriptBytes)
        {
            return Usage(TooLarge(path, bytes.Length));
        }
        var nul = Array.IndexOf(bytes, (byte)0);
        if (nul >= 0)
        {
            return Usage($"{path} holds a NUL byte (at byte {nul}): it is not a Python script");
        }
        string script;
        try
        {
            script = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            return Usage($"{path} is not UTF-8 text (byte {e.Index} is not valid UTF-8): is it a Python script?");
        }
        if (script.Length > 0 && script[0] == '\uFEFF')
        {
            script = script[1..];
        }
        if (string.IsNullOrWhiteSpace(script))
        {
            return Usage($"{path} is empty: there is nothing to run");
        }
        return (script, null);
    }

    private static string TooLarge(string path, long bytes) =>
        $"{path} is {bytes} bytes; a script may have at most {SandboxRunRequest.MaxScriptBytes / 1024} KiB";

    private static (string?, Failure?) Usage(string message) => (null, new Failure(ExitCodes.Usage, Failures.Kinds.Usage, message));
}
