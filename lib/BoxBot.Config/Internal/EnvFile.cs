using System.Text.RegularExpressions;

namespace BoxBot.Config.Internal;

/// <summary>
/// The development env file: <c>NAME=value</c> lines, blank lines and <c>#</c> comments. Spaces around the
/// name and value are dropped; a value wrapped in matching single or double quotes keeps what is inside. Errors name file:line and never echo the line, which may
/// hold a secret.
/// </summary>
internal static partial class EnvFile
{
    public static Dictionary<string, string> Parse(string path, string text)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            var trimmed = line.TrimStart();
            if (trimmed.Length == 0 || trimmed[0] == '#')
            {
                continue;
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            var name = equals > 0 ? line[..equals].Trim() : "";
            if (!Name().IsMatch(name))
            {
                throw new CredentialException(
                    $"{path}:{i + 1}: malformed line: expected NAME=value with NAME a credential name such as " +
                    "WHATSAPP_APP_SECRET or whatsapp-app-secret (the line is not shown: it may hold a secret)", path);
            }

            if (!values.TryAdd(name, Unquote(line[(equals + 1)..].Trim(' ', '\t'))))
            {
                throw new CredentialException($"{path}:{i + 1}: {name} is set twice; keep one line", path);
            }
        }

        return values;
    }

    private static string Unquote(string value) =>
        value.Length >= 2 && (value[0] == '"' || value[0] == '\'') && value[^1] == value[0] ? value[1..^1] : value;

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex Name();
}
