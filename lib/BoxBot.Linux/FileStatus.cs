namespace BoxBot.Linux;

/// <summary>What statx(2) says about a path or an open file: type, permission bits, owner, identity, link count and size.</summary>
public readonly record struct FileStatus(uint Mode, uint Uid, uint Gid, ulong Inode, uint DevMajor, uint DevMinor, uint Links, long Size)
{
    private const uint TypeMask = 0xF000; // S_IFMT

    public uint Type => Mode & TypeMask;
    public bool IsRegularFile => Type == 0x8000;
    public bool IsDirectory => Type == 0x4000;
    public bool IsSymbolicLink => Type == 0xA000;
    public bool IsSocket => Type == 0xC000;

    /// <summary>The permission bits (including setuid/setgid/sticky), as chmod takes them.</summary>
    public uint Permissions => Mode & 0xFFF;

    /// <summary>"socket", "regular file", ...: for messages that say what was found.</summary>
    public string TypeName => Type switch
    {
        0xC000 => "socket",
        0xA000 => "symbolic link",
        0x8000 => "regular file",
        0x4000 => "directory",
        0x1000 => "FIFO",
        _ => "special file",
    };

    /// <summary>Same device and inode: the same file, whatever its path now.</summary>
    public bool SameFileAs(FileStatus other) =>
        Inode == other.Inode && DevMajor == other.DevMajor && DevMinor == other.DevMinor;
}
