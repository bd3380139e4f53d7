using System.CommandLine;
using System.Text;
using System.Text.Json;
using BoxBot.Cli.Internal;
using BoxBot.Plugins;

namespace BoxBot.Cli.Plugins;

internal static class PluginsValidateCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("PATH") { Description = "A plugin folder (with manifest.json) or a bundle (.tar.gz, .tgz or .zip)." };
        var json = CommonOptions.Json();
        var command = new Command("validate",
            "Check a plugin as the box would install it, without installing it: the manifest (id, version, entry_point, class_name, " +
            "dependencies, capabilities), the entry point, and every archive rule (no links, devices, '..' or absolute paths, at most " +
            "1,000 entries and 50 MiB, a bundle of at most 10 MiB). Prints what it declares and the bundle's digest; exit code 1 when it would be refused.")
        { path, json };
        command.SetAction(parse =>
        {
            var target = Path.GetFullPath(parse.GetValue(path)!);
            if (!Directory.Exists(target) && !File.Exists(target))
            {
                return Failures.Usage($"{target}: no such folder or file");
            }
            return PluginChecks.Run(target, check =>
            {
                if (parse.GetValue(json))
                {
                    Console.Out.WriteLine(Json(check));
                }
                else
                {
                    Console.Out.Write(Text(check));
                    PluginChecks.Warn(check);
                }
                return ExitCodes.Ok;
            });
        });
        return command;
    }

    internal static string Text(PluginCheck check)
    {
        var m = check.Manifest;
        var c = m.Capabilities;
        static string List(IReadOnlyList<string> items, string none) => items.Count == 0 ? none : string.Join(", ", items);
        var text = new StringBuilder();
        text.AppendLine($"plugin {m.Id} {m.Version}: {(m.Description.Length == 0 ? "(no description)" : m.Description)}");
        text.AppendLine($"  entry: {m.EntryPoint}, class {m.ClassName}; {check.Files} files, {check.Bytes} bytes");
        text.AppendLine($"  python dependencies: {List(m.PythonDependencies, "none")} (each installed only through an approval)");
        text.AppendLine($"  network: {List(c.Hosts, "none")}");
        text.AppendLine($"  secrets: {List(c.Secrets, "none")}");
        text.AppendLine($"  mesh calls: {List(c.Devices, "none")}");
        text.AppendLine($"  memory: {c.MemoryMib} MiB, time per call: {c.TimeoutSeconds} s");
        text.AppendLine($"  bundle: {check.BundleBytes} bytes, {check.Digest}");
        return text.ToString();
    }

    private static string Json(PluginCheck check)
    {
        var m = check.Manifest;
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("id", m.Id);
            w.WriteString("version", m.Version);
            w.WriteString("description", m.Description);
            w.WriteString("entry_point", m.EntryPoint);
            w.WriteString("class_name", m.ClassName);
            Strings(w, "python_dependencies", m.PythonDependencies);
            w.WriteStartObject("capabilities");
            Strings(w, "network", m.Capabilities.Hosts);
            Strings(w, "secrets", m.Capabilities.Secrets);
            Strings(w, "devices", m.Capabilities.Devices);
            w.WriteNumber("memory_mib", m.Capabilities.MemoryMib);
            w.WriteNumber("timeout_s", m.Capabilities.TimeoutSeconds);
            w.WriteEndObject();
            w.WriteNumber("files", check.Files);
            w.WriteNumber("bytes", check.Bytes);
            w.WriteString("digest", check.Digest);
            w.WriteNumber("bundle_bytes", check.BundleBytes);
            Strings(w, "warnings", check.Warnings);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Strings(Utf8JsonWriter w, string name, IReadOnlyList<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values)
        {
            w.WriteStringValue(v);
        }
        w.WriteEndArray();
    }
}
