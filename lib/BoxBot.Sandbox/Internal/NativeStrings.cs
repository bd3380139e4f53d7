using System.Runtime.InteropServices;
using System.Text;

namespace BoxBot.Sandbox.Internal;

/// <summary>
/// A NULL-terminated array of NUL-terminated UTF-8 strings in native memory (argv/envp for execveat).
/// Built before the limits are applied, so nothing needs to allocate afterwards. Never freed on the
/// success path: execveat replaces the whole address space.
/// </summary>
internal static unsafe class NativeStrings
{
    public static nint Array(IEnumerable<string> values)
    {
        var list = values.ToList();
        var array = (nint*)NativeMemory.AllocZeroed((nuint)(list.Count + 1), (nuint)sizeof(nint));
        for (var i = 0; i < list.Count; i++)
        {
            array[i] = String(list[i]);
        }
        return (nint)array;
    }

    public static nint String(string value)
    {
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw new LaunchFailure("a string contains NUL");
        }
        var bytes = Encoding.UTF8.GetBytes(value);
        var p = (byte*)NativeMemory.AllocZeroed((nuint)bytes.Length + 1);
        bytes.CopyTo(new Span<byte>(p, bytes.Length));
        return (nint)p;
    }
}
