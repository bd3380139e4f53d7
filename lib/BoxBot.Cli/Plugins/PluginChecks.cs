using BoxBot.Cli.Internal;
using BoxBot.Plugins;

namespace BoxBot.Cli.Plugins;

/// <summary>What `plugins validate` and `pack` share: a check of the plugin in a scratch folder, its warnings, its failures.</summary>
internal static class PluginChecks
{
    /// <summary>Checks <paramref name="path"/> (removing the scratch folder after), then hands the result to <paramref name="use"/>; a refusal is exit code 1 naming the field or member.</summary>
    public static int Run(string path, Func<PluginCheck, int> use)
    {
        var scratch = Directory.CreateTempSubdirectory("boxbot-plugin-").FullName;
        try
        {
            return use(PluginBundle.Check(path, scratch));
        }
        catch (Exception e) when (e is PluginArchiveException or PluginManifestException)
        {
            return Failures.Fail($"{path}: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Failures.Fail($"{path}: cannot be read or written: {e.Message}");
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    public static void Warn(PluginCheck check)
    {
        foreach (var warning in check.Warnings)
        {
            Console.Error.WriteLine("boxbot: warning: " + warning);
        }
    }
}
