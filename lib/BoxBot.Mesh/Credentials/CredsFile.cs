using NATS.NKeys;

namespace BoxBot.Mesh.Credentials;

/// <summary>
/// The standard NATS <c>.creds</c> file: a user's JWT and its NKey seed between marker lines, as nsc and the Go library
/// write it (five dashes before BEGIN lines, six around END lines).
/// </summary>
public static class CredsFile
{
    private const string JwtBegin = "-----BEGIN NATS USER JWT-----";
    private const string JwtEnd = "------END NATS USER JWT------";
    private const string SeedBegin = "-----BEGIN USER NKEY SEED-----";
    private const string SeedEnd = "------END USER NKEY SEED------";

    public static string Format(string userJwt, string userSeed)
    {
        ArgumentException.ThrowIfNullOrEmpty(userJwt);
        ArgumentException.ThrowIfNullOrEmpty(userSeed);
        return $"""
            {JwtBegin}
            {userJwt}
            {JwtEnd}

            ************************* IMPORTANT *************************
            NKEY Seed printed below can be used to sign and prove identity.
            NKEYs are sensitive and should be treated as secrets.

            {SeedBegin}
            {userSeed}
            {SeedEnd}

            *************************************************************

            """.ReplaceLineEndings("\n");
    }

    /// <summary>The JWT and seed in <paramref name="text"/>; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="FormatException">A block is missing, or the seed is not a user's NKey seed.</exception>
    public static (string Jwt, string Seed) Parse(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        var jwt = Block(text, JwtBegin, source, "NATS USER JWT");
        var seed = Block(text, SeedBegin, source, "USER NKEY SEED");
        try
        {
            using var pair = KeyPair.FromSeed(seed);
            if (pair.Prefix != PrefixByte.User)
            {
                throw new FormatException($"{source}: the seed is an NKey seed of a {pair.Prefix}, not of a user (SU…)");
            }
        }
        catch (Exception e) when (e is NKeysException or ArgumentException or InvalidOperationException)
        {
            throw new FormatException($"{source}: the USER NKEY SEED block does not hold an NKey seed ({e.Message})", e);
        }
        try
        {
            _ = NatsJwt.Read(jwt);
        }
        catch (FormatException e)
        {
            throw new FormatException($"{source}: the NATS USER JWT block: {e.Message}", e);
        }
        return (jwt, seed);
    }

    // The first line after the BEGIN marker that is neither empty nor a comment, as nats.go reads it.
    private static string Block(string text, string begin, string source, string what)
    {
        var lines = text.ReplaceLineEndings("\n").Split('\n');
        // The dashes around a marker vary between writers; its words do not.
        var start = Array.FindIndex(lines, l => l.TrimStart().StartsWith('-') && l.Contains("BEGIN " + what, StringComparison.Ordinal));
        if (start < 0)
        {
            throw new FormatException($"{source}: no {what} block (a line '{begin}')");
        }
        for (var i = start + 1; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('*'))
            {
                continue;
            }
            if (line.StartsWith("--", StringComparison.Ordinal))
            {
                break;
            }
            return line;
        }
        throw new FormatException($"{source}: the {what} block is empty");
    }
}
