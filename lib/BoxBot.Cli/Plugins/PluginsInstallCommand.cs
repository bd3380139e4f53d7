using System.CommandLine;
using BoxBot.Cli.Internal;
using BoxBot.Contracts;
using BoxBot.Plugins;

namespace BoxBot.Cli.Plugins;

internal static class PluginsInstallCommand
{
    /// <summary>Bundles travel in pieces well below the 1 MiB IPC frame (base64 grows them by a third).</summary>
    private const int ChunkBytes = 512 * 1024;

    public static Command Create()
    {
        var path = new Argument<string?>("PATH") { Description = "A plugin folder (with manifest.json) or a bundle (.tgz, .tar.gz or .zip).", Arity = ArgumentArity.ZeroOrOne };
        var bundle = new Option<string?>("--bundle") { Description = "A bundle file (the same as giving it as PATH)." };
        var url = new Option<string?>("--url") { Description = "Install from an HTTPS URL on [plugins] allowed_hosts (the plugin host downloads it)." };
        var digest = new Option<string?>("--digest") { Description = "The bundle's sha256:HEX; required with --url unless [plugins] require_digest = false, and checked whenever given." };
        var replace = new Option<bool>("--replace") { Description = "Replace an installed plugin of the same id (its data folder is kept)." };
        var noLoad = new Option<bool>("--no-load") { Description = "Install without loading it (load it later with `boxbot plugins load ID`)." };
        var json = CommonOptions.Json();
        var command = new Command("install",
            "Install a plugin: checked here as `validate` does, sent to the plugin host, which extracts it with every archive refusal, imports it in a " +
            "sandbox job to learn its functions, moves it into place and loads it. An admin installing over SSH approves it by doing so; " +
            "the digest of a local bundle is printed. Plugins declaring network, secrets or devices are refused (not grantable yet).")
        { path, bundle, url, digest, replace, noLoad, json };
        command.SetAction(async (parse, ct) =>
        {
            var local = parse.GetValue(path) ?? parse.GetValue(bundle);
            var from = parse.GetValue(url);
            if ((local is null) == (from is null))
            {
                return Failures.Usage("name a plugin folder or bundle (PATH or --bundle FILE), or --url URL");
            }
            var request = new PluginInstallRequest { Url = from, Digest = parse.GetValue(digest), Replace = parse.GetValue(replace), Load = !parse.GetValue(noLoad) };
            if (local is not null)
            {
                var full = Path.GetFullPath(local);
                if (!Directory.Exists(full) && !File.Exists(full))
                {
                    return Failures.Usage($"{full}: no such folder or file");
                }
                PluginCheck? check = null;
                var checkedCode = PluginChecks.Run(full, c =>
                {
                    check = c;
                    return ExitCodes.Ok;
                });
                if (check is null)
                {
                    return checkedCode;
                }
                PluginChecks.Warn(check);
                if (request.Digest is { } wanted && !PluginBundle.DigestMatches(check.Digest, wanted))
                {
                    return Failures.Fail($"{full} is {check.Digest}, not {wanted}");
                }
                await Console.Error.WriteLineAsync($"boxbot: {check.Manifest.Id} {check.Manifest.Version}: {check.Digest} ({check.BundleBytes} bytes)");
                string? uploadId = null;
                for (var offset = 0; offset < check.Bundle.Length || offset == 0; offset += ChunkBytes)
                {
                    var piece = check.Bundle.AsSpan(offset, Math.Min(ChunkBytes, check.Bundle.Length - offset)).ToArray();
                    var (state, uploadCode) = await AgentCall.CallAsync(Daemons.PluginHost, PluginMethods.Upload,
                        new PluginUploadChunk { UploadId = uploadId, Offset = offset, Data = piece },
                        PluginsJsonContext.Default.PluginUploadChunk, PluginsJsonContext.Default.PluginUploadState, TimeSpan.FromSeconds(30), ct);
                    if (state is null)
                    {
                        return uploadCode;
                    }
                    uploadId = state.UploadId;
                }
                request = request with { UploadId = uploadId, Digest = check.Digest };
            }
            var (result, code) = await AgentCall.CallAsync(Daemons.PluginHost, PluginMethods.Install, request,
                PluginsJsonContext.Default.PluginInstallRequest, PluginsJsonContext.Default.PluginInstallResult, TimeSpan.FromSeconds(200), ct);
            if (result is null)
            {
                return code;
            }
            if (parse.GetValue(json))
            {
                CliJson.Print(result, PluginsJsonContext.Default.PluginInstallResult);
            }
            else
            {
                Console.Out.Write((result.Replaced ? "replaced " : "installed ") + PluginPrint.Info(result.Plugin));
            }
            return code;
        });
        return command;
    }
}
