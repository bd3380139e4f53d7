using System.Reflection;

namespace BoxBot.Contracts;

/// <summary>The version every boxbot executable reports: the repo's Version, plus the git commit when the build knew it.</summary>
public static class BuildInfo
{
    public static string Version { get; } = Read();

    private static string Read()
    {
        var informational = typeof(BuildInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (string.IsNullOrEmpty(informational))
        {
            return "0.0.0";
        }
        // "0.1.0+<40-hex commit>" → "0.1.0+<12-hex>": long enough to find the commit, short enough to read.
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus > 0 && informational.Length > plus + 13 ? informational[..(plus + 13)] : informational;
    }
}
